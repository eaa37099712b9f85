package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimQueue batches claims: while one batch is with Redis, the claims
// that come in wait, and go together in the next batch, one pipeline (one
// round trip per Redis node). Under load the batches grow on their own;
// alone, a claim is sent at once.
type claimQueue struct {
	mu      sync.Mutex
	waiting []*claimReq
	running bool // a batch is with Redis
}

// claimReq is one claim waiting for its answer.
type claimReq struct {
	id        string
	done      chan struct{}
	now, prev Holder
	err       error

	// abandoned is set when the claimer stopped waiting (its context
	// ended): a claim Redis made anyway is released at once, or the
	// device would be shown connected here with no session.
	abandoned bool
}

func (q *claimQueue) claim(ctx context.Context, n *Node, id string) (now, prev Holder, err error) {
	req := &claimReq{id: id, done: make(chan struct{})}
	q.mu.Lock()
	q.waiting = append(q.waiting, req)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.run(n)
	}
	select {
	case <-req.done:
		return req.now, req.prev, req.err
	case <-ctx.Done():
		q.mu.Lock()
		req.abandoned = true
		q.mu.Unlock()
		return Holder{}, Holder{}, n.edge.Err("claim device "+id, ctx.Err())
	}
}

// run sends batches until no claim waits.
func (q *claimQueue) run(n *Node) {
	for {
		q.mu.Lock()
		batch := q.waiting
		q.waiting = nil
		if len(batch) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		n.claimBatch(batch)
		for _, req := range batch {
			q.mu.Lock()
			gone := req.abandoned
			q.mu.Unlock()
			if gone && req.err == nil {
				n.releaseAbandoned(req)
			}
			close(req.done)
		}
	}
}

// claimBatch runs the claims of batch in one pipeline, and those Redis
// had no script for yet (NOSCRIPT: its first claim, or after a restart)
// one by one, which loads it.
func (n *Node) claimBatch(batch []*claimReq) {
	since := n.opts.Now()
	ctx, cancel := context.WithTimeout(context.Background(), n.edge.Timeout()*time.Duration(1+len(batch)/5000))
	defer cancel()
	cmds := make([]*redis.Cmd, len(batch))
	_, _ = n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, req := range batch {
			cmds[i] = claimScript.EvalSha(ctx, p, []string{n.presenceKey(req.id)}, n.opts.ID, since.UnixMilli())
		}
		return nil
	})
	for i, req := range batch {
		c := cmds[i]
		if redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
			c = claimScript.Run(ctx, n.rdb, []string{n.presenceKey(req.id)}, n.opts.ID, since.UnixMilli())
		}
		res, err := c.Slice()
		if err != nil {
			req.err = n.edge.Err("claim device "+req.id, err)
			continue
		}
		req.now, req.prev, req.err = n.claimResult(req.id, since, res)
	}
}

// releaseAbandoned releases a claim nobody waits for any more.
func (n *Node) releaseAbandoned(req *claimReq) {
	ctx, cancel := context.WithTimeout(context.Background(), n.edge.Timeout())
	defer cancel()
	if _, err := n.Release(ctx, req.id, req.now.Epoch); err != nil {
		n.log.Warn("cannot release a claim whose connection gave up waiting for it; the device is shown connected here until it reconnects",
			"device", req.id, "epoch", req.now.Epoch, "error", fmt.Sprint(err))
	}
}
