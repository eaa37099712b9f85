package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of [Options].
const (
	DefaultHeartbeat = 2 * time.Second
	DefaultDeadAfter = 10 * time.Second
)

// Options configures a [Node].
type Options struct {
	ID      string // required: unique among the nodes sharing the Redis
	Addr    string // advertised MQTT address
	Version string // default "dev"
	// Devices returns how many devices are connected now; nil reports 0.
	Devices func() int

	KeyPrefix string        // default "recipesd", the catalog's
	Timeout   time.Duration // one round trip; default redisconn.DefaultTimeout
	Heartbeat time.Duration // default [DefaultHeartbeat]
	// DeadAfter is how old the last heartbeat may be before the node
	// counts as dead; default [DefaultDeadAfter], at least 3 heartbeats so
	// that one slow or lost heartbeat does not kill a live node.
	DeadAfter time.Duration
	Now       func() time.Time // default time.Now; tests set their clock
	Logger    *slog.Logger     // nil discards logs

	// Bus carries this node's messages to and from the others: takeover
	// notices, drain requests. Nil on a node alone on its store (the
	// embedded one), which has nobody to tell.
	Bus *Bus
}

// Node is this process as a member of the cluster: it registers itself and
// keeps its entry fresh until [Node.Close]. Its embedded [Registry] lists
// every node.
type Node struct {
	*Registry
	opts    Options
	log     *slog.Logger
	started time.Time

	draining atomic.Bool // set by SetDraining; written with every heartbeat
	claims   claimQueue  // claims waiting to go to Redis (claims.go)

	drain      func()      // set by HandleDrainRequests
	drainAsked atomic.Bool // a drain request was received

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns the node described by opts, registered in rdb once started.
// It does no I/O.
func New(rdb redis.UniversalClient, opts Options) (*Node, error) {
	opts.Version = cmp.Or(opts.Version, "dev")
	opts.Heartbeat = cmp.Or(opts.Heartbeat, DefaultHeartbeat)
	opts.DeadAfter = cmp.Or(opts.DeadAfter, DefaultDeadAfter)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Logger = cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	if opts.Devices == nil {
		opts.Devices = func() int { return 0 }
	}
	switch {
	case opts.ID == "":
		return nil, errors.New("cluster: node ID is empty")
	case opts.Heartbeat < 0 || opts.DeadAfter < 3*opts.Heartbeat:
		return nil, fmt.Errorf("cluster: liveness bound %s must be at least 3 heartbeats (3 × %s)", opts.DeadAfter, opts.Heartbeat)
	}
	return &Node{
		Registry: NewRegistry(rdb, opts.KeyPrefix, opts.Timeout, opts.Now),
		opts:     opts,
		log:      opts.Logger.With("component", "cluster", "node", opts.ID),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}, nil
}

// Start registers the node, or returns why it could not (another live
// node has its ID, say), and then keeps its heartbeat going every
// Heartbeat until [Node.Close]. If the ID's entry is fresh, it first
// watches it for 1.5 heartbeats (see checkTwin).
func (n *Node) Start(ctx context.Context) error {
	if err := n.checkTwin(ctx); err != nil {
		return err
	}
	n.started = n.opts.Now()
	if err := n.beat(ctx); err != nil {
		n.started = time.Time{} // not registered: Close has nothing to do
		return err
	}
	n.log.Info("registered in the cluster", "mqtt_addr", n.opts.Addr)
	go n.run(context.WithoutCancel(ctx))
	return nil
}

func (n *Node) run(ctx context.Context) {
	defer close(n.done)
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		// A failed heartbeat is retried at the next tick; the node is
		// reported dead only if they keep failing for DeadAfter.
		err := n.beat(ctx)
		if err != nil && !failing {
			n.log.Warn("heartbeat failed; other nodes see this one dead if it keeps failing", "dead_after", n.opts.DeadAfter, "err", err)
		} else if err == nil && failing {
			n.log.Info("heartbeat works again")
		}
		failing = err != nil
	}
}

// beat writes the node's entry with the time now.
func (n *Node) beat(ctx context.Context) error {
	raw, err := json.Marshal(entry{
		ID: n.opts.ID, Addr: n.opts.Addr, Version: n.opts.Version, Devices: n.opts.Devices(),
		StartedAt: n.started, Heartbeat: n.opts.Now(), DeadAfter: n.opts.DeadAfter, Every: n.opts.Heartbeat,
		Draining: n.draining.Load(),
	})
	if err != nil {
		return fmt.Errorf("cluster: encode node entry: %w", err)
	}
	rctx, cancel := n.edge.RT(ctx)
	defer cancel()
	return n.edge.Err("heartbeat", n.rdb.HSet(rctx, n.key, n.opts.ID, raw).Err())
}

// SetDraining marks the node draining (or not) in its entry at once,
// rather than at its next heartbeat, so that peers stop referring devices
// to it; every later heartbeat keeps the mark. An error means the mark is
// not yet stored; the next heartbeat retries it.
func (n *Node) SetDraining(ctx context.Context, draining bool) error {
	n.draining.Store(draining)
	if n.started.IsZero() {
		return nil // not registered: nothing to mark
	}
	return n.beat(ctx)
}

// Draining reports whether [Node.SetDraining] marked the node draining.
func (n *Node) Draining() bool { return n.draining.Load() }

// Close stops the heartbeat and deletes the node's entry, so that the
// others see it gone at once rather than dead after the liveness bound.
// It is safe to call more than once, and after a failed Start.
func (n *Node) Close(ctx context.Context) error {
	if n.started.IsZero() {
		return nil // never started
	}
	first := false
	n.once.Do(func() { close(n.stop); first = true })
	<-n.done
	if !first {
		return nil
	}
	rctx, cancel := n.edge.RT(ctx)
	defer cancel()
	return n.edge.Err("unregister", n.rdb.HDel(rctx, n.key, n.opts.ID).Err())
}
