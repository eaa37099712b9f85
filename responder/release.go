package responder

import (
	"context"
	"sync"
	"time"
)

// The releases of ended sessions' claims go to the store in batches: one
// round trip (per Redis node) for all that ended within releaseBatch,
// instead of one each. A connect storm ends as many sessions as it opens,
// and a round trip costs the node more than the release itself; the
// price is that a device is shown connected for up to releaseBatch
// longer.

// releaseBatch is how long ended sessions are gathered before their
// claims are released.
const releaseBatch = 5 * time.Millisecond

// releaseTries is how often a batch is tried before the failure is
// logged; it is tried again after that, every releaseRetry, until it
// succeeds or the responder closes: a claim left behind would show its
// device connected here for as long as this node lives.
const (
	releaseTries = 3
	releaseRetry = 5 * time.Second
)

// releases are the claims waiting to be released.
type releases struct {
	mu       sync.Mutex
	pending  map[string]uint64 // device -> epoch of its session that ended
	flushing bool              // a flush is scheduled or running
	running  sync.WaitGroup    // the flush, for Close
	stop     chan struct{}     // closed by Close: no more waiting to retry
}

// releaseLater queues the release of device id's claim at epoch.
func (r *Responder) releaseLater(id string, epoch uint64) {
	rl := &r.releases
	rl.mu.Lock()
	if rl.pending == nil {
		rl.pending = map[string]uint64{}
	}
	// Of two sessions of the device that ended, the newer's release is
	// the one that counts: the older one's is a no-op in the store.
	rl.pending[id] = max(rl.pending[id], epoch)
	start := !rl.flushing
	rl.flushing = true
	if start {
		rl.running.Add(1)
	}
	rl.mu.Unlock()
	if start {
		go r.flushReleases()
	}
}

// flushReleases releases what is queued, batch after batch, until the
// queue is empty.
func (r *Responder) flushReleases() {
	rl := &r.releases
	defer rl.running.Done()
	time.Sleep(releaseBatch)
	for {
		rl.mu.Lock()
		batch := rl.pending
		rl.pending = nil
		if len(batch) == 0 {
			rl.flushing = false
			rl.mu.Unlock()
			return
		}
		rl.mu.Unlock()
		r.release(batch)
	}
}

// release releases batch, trying again with a growing pause (up to
// releaseRetry) until it succeeds or the responder closes.
func (r *Responder) release(batch map[string]uint64) {
	wait := 500 * time.Millisecond
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.StoreTimeout*time.Duration(1+len(batch)/5000))
		err := r.opts.Presence.ReleaseAll(ctx, batch)
		cancel()
		if err == nil {
			if try > releaseTries {
				r.log.Info("released the ended sessions at last", "devices", len(batch), "tries", try)
			}
			return
		}
		if try == releaseTries {
			r.log.Warn("cannot release ended sessions; their devices are shown connected here until it works, tried again every "+releaseRetry.String(),
				"devices", len(batch), "error", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-r.releases.stop:
			t.Stop()
			r.log.Warn("closing with ended sessions not released; their devices are shown connected until this node is dead in the registry",
				"devices", len(batch))
			return
		case <-t.C:
		}
		wait = min(2*wait, releaseRetry)
	}
}
