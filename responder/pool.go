package responder

import (
	"context"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// The worker pool. Requests the catalog cannot answer from memory wait
// here for a store lookup, off the devices' connection goroutines (see
// handleRequest), each bounded by its answer deadline.

// errBusy answers requests the pool has no room for.
var errBusy = recipes.Errorf(recipes.EUNAVAILABLE, "server busy; retry shortly")

// enqueue hands req to the pool, unless it is full or closed.
func (r *Responder) enqueue(req *request) bool {
	r.gate.RLock()
	defer r.gate.RUnlock()
	if r.jobsClosed {
		return false
	}
	r.pending.Add(1)
	if req.dev != nil {
		req.dev.LookupStarted()
	}
	select {
	case r.jobs <- req:
		return true
	default:
		r.lookupDone(req)
		return false
	}
}

func (r *Responder) lookupDone(req *request) {
	if req.dev != nil {
		req.dev.LookupDone()
	}
	r.pending.Add(-1)
}

// work answers queued requests until the queue is closed.
func (r *Responder) work() {
	defer r.workers.Done()
	for req := range r.jobs {
		r.lookup(req)
		r.lookupDone(req)
	}
}

// lookup answers req from the store within its answer deadline, so that a
// down or stalled store yields a 503 in time rather than silence.
func (r *Responder) lookup(req *request) {
	deadline := req.answerBy
	if !req.expires.IsZero() && req.expires.Before(deadline) {
		deadline = req.expires
	}
	var (
		doc recipes.Document
		err error
	)
	if time.Until(deadline) <= 0 {
		err = recipes.Errorf(recipes.EUNAVAILABLE, "catalog store did not answer in time")
	} else {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		doc, err = r.catalog.Find(ctx, req.query)
		cancel()
	}
	r.answer(req, doc, err, false)
}
