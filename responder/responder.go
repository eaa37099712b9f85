// Package responder answers recipe queries from cooking appliances over
// MQTT 5. It owns the embedded broker (mochi), device authentication and
// the device ACL, the limits and packet checks that keep bad peers from
// hurting others, the Response Topic guard and the reply path, commands to
// devices with their answers ([Responder.Call], rpc.go), and talks
// to the catalog and the device registry only through the small [Catalog]
// and [Devices] interfaces it declares.
//
// Replies do not travel through mochi's routing: mochi v2.7.9 can deadlock a
// client that receives a QoS 1 message from another goroutine and leaks the
// send quota of clients with a small Receive Maximum. Each device therefore
// has its own outbox with its own packet identifiers, flow control and
// subscriptions, and replies are written straight to the device's
// connection.
//
// The package is the top of three layers: package edge guards the network
// edge (framing, packet checks, the listener and its recover, per-source
// throttling, mochi's log), package session holds the device sessions
// (outboxes, subscriptions, request budgets, last-seen times), and this
// package wires them to mochi's hooks and answers requests and makes
// calls on top of them.
package responder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"golang.org/x/time/rate"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/edge"
	"github.com/recipesd/recipesd/responder/session"
)

// Catalog is what the responder needs from the recipe store. Appliances only
// ever see published content.
type Catalog interface {
	// FindCached answers q from memory without blocking. It returns
	// recipes.ErrUncached when answering would have to wait on the store,
	// ENOTFOUND for unknown resources and EINVALID for a bad cursor.
	FindCached(q recipes.Query) (recipes.Document, error)

	// Find answers q, going to the store if needed. Besides the codes of
	// FindCached it returns EUNAVAILABLE when the store cannot be reached.
	Find(ctx context.Context, q recipes.Query) (recipes.Document, error)
}

// Responder is the MQTT side of recipesd: broker, ACL and request/response.
type Responder struct {
	catalog Catalog
	opts    Options
	log     *slog.Logger

	server      *mqtt.Server
	listener    *edge.Listener
	tlsListener *edge.Listener // nil without TLS
	devices     *session.Registry
	sessions    session.Config // what every device session shares
	stats       stats
	calls       calls // commands waiting for the device's answer (calls.go)
	seen        session.SeenLog
	revoked     revocations
	epochs      epochs         // newest epoch seen per device (presence.go)
	claims      claimLocks     // serializes one device's claims here
	releases    releases       // claims of ended sessions, released in batches (release.go)
	throttle    *edge.Throttle // per-source limits before authentication
	stopSeen    chan struct{}

	jobs    chan *request
	workers sync.WaitGroup
	pending atomic.Int64 // requests queued for the pool and not yet answered

	// gate orders request intake against Close: the publish hook holds it
	// shared while it admits a request, and handlers while they queue one;
	// Close takes it to set closing (no request is admitted after) and
	// jobsClosed (none is queued after).
	gate       sync.RWMutex
	closing    bool
	jobsClosed bool
	closeErr   error
	once       sync.Once

	// unhandled counts requests admitted (and so acknowledged) that their
	// handler has not yet answered or queued (admit.go).
	unhandled atomic.Int64

	// refusals bounds the log lines of refused publishes.
	refusals   *rate.Limiter
	suppressed atomic.Int64
}

// New returns a Responder answering from catalog. It does no I/O; call
// [Responder.Start].
func New(catalog Catalog, opts Options) *Responder {
	o := opts.withDefaults()
	r := &Responder{
		catalog:  catalog,
		opts:     o,
		log:      o.Logger.With("component", "responder"),
		devices:  session.NewRegistry(),
		releases: releases{stop: make(chan struct{})},
		refusals: rate.NewLimiter(1, 10),
		sessions: session.Config{
			OutboxLimit:  o.OutboxLimit,
			RequestRate:  o.RequestRate,
			RequestBurst: o.RequestBurst,
			Strikes:      o.AbuseStrikes,
			IsWarning:    isTooManyRequests,
		},
	}
	r.throttle = edge.NewThrottle(edge.ThrottleOptions{
		Failures:       o.ConnectFailures,
		Window:         o.ConnectFailureWindow,
		MaxUnauth:      o.MaxUnauthenticated,
		ExemptLoopback: o.ThrottleExemptLoopback,
	}, r.log)
	return r
}

// Start listens for MQTT connections and begins answering requests.
func (r *Responder) Start(ctx context.Context) error {
	var err error
	if r.listener, err = r.newListener(ctx, "mqtt", r.opts.Listener, r.opts.Addr, nil); err != nil {
		return err
	}
	if r.opts.TLS != nil {
		if r.tlsListener, err = r.newListener(ctx, "mqtt-tls", r.opts.TLSListener, r.opts.TLSAddr, r.opts.TLS); err != nil {
			r.listener.StopAccepting()
			return err
		}
	}

	srv := mqtt.New(r.mochiOptions())
	r.gate.Lock() // Revoke may run before and during Start
	r.server = srv
	r.gate.Unlock()
	if err := r.server.AddHook(&deviceHook{r: r}, nil); err != nil {
		return fmt.Errorf("responder: add hook: %w", err)
	}
	for _, l := range []*edge.Listener{r.listener, r.tlsListener} {
		if l == nil {
			continue
		}
		if err := r.server.AddListener(l); err != nil {
			return fmt.Errorf("responder: add listener: %w", err)
		}
	}
	if err := r.server.Subscribe(RequestFilter, 1, r.handleRequest); err != nil {
		return fmt.Errorf("responder: subscribe %s: %w", RequestFilter, err)
	}

	r.jobs = make(chan *request, r.opts.Queue)
	for range r.opts.Workers {
		r.workers.Add(1)
		go r.work()
	}
	r.stopSeen = make(chan struct{})
	r.workers.Add(1)
	go r.recordSeen(r.stopSeen)
	if err := r.server.Serve(); err != nil {
		return fmt.Errorf("responder: serve: %w", err)
	}
	r.log.Info("mqtt listening", "addr", r.Addr())
	if r.tlsListener != nil {
		r.log.Info("mqtt over tls listening", "addr", r.TLSAddr())
	}
	if r.opts.AllowAnonymous {
		r.log.Warn("ANONYMOUS DEVICES ALLOWED: any client may connect as any device without a secret " +
			"and see every recipe; development only, never on a network you do not control")
	} else if r.opts.Devices == nil {
		r.log.Warn("no device registry and anonymous devices not allowed: every device will be refused")
	}
	return nil
}

// Addr returns the address the MQTT listener is bound to.
func (r *Responder) Addr() string {
	if r.listener == nil {
		return ""
	}
	return r.listener.Address()
}

// TLSAddr returns the address the MQTT-over-TLS listener is bound to, or
// "" without TLS.
func (r *Responder) TLSAddr() string {
	if r.tlsListener == nil {
		return ""
	}
	return r.tlsListener.Address()
}

// Close stops taking requests, answers every request already accepted,
// waits (until ctx ends) for queued replies to be written, then closes all
// connections. It is safe to call more than once.
func (r *Responder) Close(ctx context.Context) error {
	r.once.Do(func() {
		if r.server == nil {
			return
		}
		r.gate.Lock()
		r.closing = true
		r.gate.Unlock()
		r.stopAccepting()
		r.calls.failDevice("", &recipes.CallError{Code: recipes.CallGone, Err: errShuttingDown})

		// Every request acknowledged before closing is answered: first
		// its handler runs (mochi acknowledges before it calls it), then
		// the pool answers what the handler queued, then the outboxes
		// write what was answered.
		answered := make(chan struct{})
		go func() {
			for (r.unhandled.Load() > 0 || r.pending.Load() > 0) && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			close(answered)
		}()
		select {
		case <-answered:
		case <-ctx.Done():
			r.closeErr = fmt.Errorf("responder: close: requests still pending: %w", ctx.Err())
		}
		r.devices.WaitFlushed(ctx)

		r.gate.Lock()
		r.jobsClosed = true
		r.gate.Unlock()
		if r.jobs != nil {
			close(r.jobs)
			close(r.stopSeen)
		}
		r.workers.Wait()
		if err := r.server.Close(); err != nil {
			r.closeErr = errors.Join(r.closeErr, fmt.Errorf("responder: close broker: %w", err))
		}
		for _, l := range []*edge.Listener{r.listener, r.tlsListener} {
			if l != nil {
				l.Wait(ctx)
			}
		}
		r.flushSeen(ctx) // the disconnects of the devices just closed
		close(r.releases.stop)
		waitCtx(ctx, &r.releases.running)
	})
	return r.closeErr
}

// stopAccepting closes the listeners to new connections; the open ones
// go on.
func (r *Responder) stopAccepting() {
	for _, l := range []*edge.Listener{r.listener, r.tlsListener} {
		if l != nil {
			l.StopAccepting()
		}
	}
}

// errShuttingDown answers requests that arrive while the server stops.
var errShuttingDown = recipes.Errorf(recipes.EUNAVAILABLE, "server is shutting down; retry shortly")
