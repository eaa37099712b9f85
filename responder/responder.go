// Package responder answers recipe queries from cooking appliances over
// MQTT 5. It owns the embedded broker (mochi), the device ACL, the Response
// Topic guard and the reply path, and talks to the catalog only through the
// small [Catalog] interface it declares.
//
// Replies do not travel through mochi's routing: mochi v2.7.9 can deadlock a
// client that receives a QoS 1 message from another goroutine and leaks the
// send quota of clients with a small Receive Maximum. Each device therefore
// has its own outbox (outbox.go) with its own packet identifiers and flow
// control, and replies are written straight to the device's connection.
package responder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/recipesd/recipesd/recipes"
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

// Options tunes the responder. The zero value works.
type Options struct {
	// Addr is the MQTT listen address; default ":1883".
	Addr string

	// Listener, if set, is used instead of listening on Addr (tests).
	Listener net.Listener

	// ReplyExpiry is the Message Expiry Interval of replies; default 60 s.
	ReplyExpiry time.Duration

	// StoreTimeout bounds a request that has to wait on the store, so that a
	// stalled store still yields a 503 within a second; default 800 ms.
	StoreTimeout time.Duration

	// Workers and Queue size the pool that answers requests needing the store.
	Workers int // default 32
	Queue   int // default 4096

	// RequestRate and RequestBurst are each device's token bucket (requests
	// per second); a request beyond it is answered 429. Default 50 and 100.
	RequestRate  float64
	RequestBurst int

	// OutboxLimit bounds the replies queued for one device; default 1024.
	OutboxLimit int

	// MaxPacketSize is the largest packet a device may send; default 256 KiB.
	MaxPacketSize uint32

	// MaxSessionExpiry caps how long an offline device's session is kept;
	// default 1 hour.
	MaxSessionExpiry time.Duration

	Logger *slog.Logger
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.Addr == "" {
		c.Addr = ":1883"
	}
	if c.ReplyExpiry <= 0 {
		c.ReplyExpiry = 60 * time.Second
	}
	if c.StoreTimeout <= 0 {
		c.StoreTimeout = 800 * time.Millisecond
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Queue <= 0 {
		c.Queue = 4096
	}
	if c.RequestRate <= 0 {
		c.RequestRate = 50
	}
	if c.RequestBurst <= 0 {
		c.RequestBurst = 100
	}
	if c.OutboxLimit <= 0 {
		c.OutboxLimit = 1024
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = 256 << 10
	}
	if c.MaxSessionExpiry <= 0 {
		c.MaxSessionExpiry = time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Responder is the MQTT side of recipesd: broker, ACL and request/response.
type Responder struct {
	catalog Catalog
	opts    Options
	log     *slog.Logger

	server   *mqtt.Server
	listener *listener
	devices  *registry
	stats    stats

	jobs    chan *request
	workers sync.WaitGroup
	pending sync.WaitGroup // requests queued for the pool and not yet answered

	// gate orders request intake against Close: handlers hold it shared
	// while they accept a request, Close takes it to set closing.
	gate     sync.RWMutex
	closing  bool
	closeErr error
	once     sync.Once
}

// New returns a Responder answering from catalog. It does no I/O; call
// [Responder.Start].
func New(catalog Catalog, opts Options) *Responder {
	o := opts.withDefaults()
	return &Responder{
		catalog: catalog,
		opts:    o,
		log:     o.Logger.With("component", "responder"),
		devices: newRegistry(),
	}
}

// Start listens for MQTT connections and begins answering requests.
func (r *Responder) Start(ctx context.Context) error {
	ln := r.opts.Listener
	if ln == nil {
		var err error
		ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", r.opts.Addr)
		if err != nil {
			return fmt.Errorf("responder: listen on %s: %w", r.opts.Addr, err)
		}
	}
	r.listener = newListener("mqtt", ln, r.log)

	r.server = mqtt.New(r.mochiOptions())
	if err := r.server.AddHook(&deviceHook{r: r}, nil); err != nil {
		return fmt.Errorf("responder: add hook: %w", err)
	}
	if err := r.server.AddListener(r.listener); err != nil {
		return fmt.Errorf("responder: add listener: %w", err)
	}
	if err := r.server.Subscribe(RequestFilter, 1, r.handleRequest); err != nil {
		return fmt.Errorf("responder: subscribe %s: %w", RequestFilter, err)
	}

	r.jobs = make(chan *request, r.opts.Queue)
	for range r.opts.Workers {
		r.workers.Add(1)
		go r.work()
	}
	if err := r.server.Serve(); err != nil {
		return fmt.Errorf("responder: serve: %w", err)
	}
	r.log.Info("mqtt listening", "addr", r.Addr())
	return nil
}

func (r *Responder) mochiOptions() *mqtt.Options {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.Compatibilities.NoInheritedPropertiesOnAck = true
	caps.MaximumPacketSize = r.opts.MaxPacketSize
	caps.MaximumSessionExpiryInterval = uint32(r.opts.MaxSessionExpiry / time.Second)
	// Devices never receive messages through mochi's routing (see the
	// package comment), so its per-client write queue can be small; the
	// default (8192 pointers) costs 64 KiB per idle connection.
	caps.MaximumClientWritesPending = 64
	// Topic aliases would hide the request topic from the ACL check, which
	// mochi runs before it resolves aliases.
	caps.TopicAliasMaximum = 0
	// A retained request would sit in the broker for ever.
	caps.RetainAvailable = 0
	return &mqtt.Options{
		Capabilities:           caps,
		InlineClient:           true,
		SysTopicResendInterval: 3600,
		Logger:                 r.opts.Logger.With("component", "mochi"),
	}
}

// Addr returns the address the MQTT listener is bound to.
func (r *Responder) Addr() string {
	if r.listener == nil {
		return ""
	}
	return r.listener.Address()
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
		r.listener.stopAccepting()

		answered := make(chan struct{})
		go func() { r.pending.Wait(); close(answered) }()
		select {
		case <-answered:
		case <-ctx.Done():
			r.closeErr = fmt.Errorf("responder: close: requests still pending: %w", ctx.Err())
		}
		r.devices.waitFlushed(ctx)

		close(r.jobs)
		r.workers.Wait()
		if err := r.server.Close(); err != nil {
			r.closeErr = errors.Join(r.closeErr, fmt.Errorf("responder: close broker: %w", err))
		}
	})
	return r.closeErr
}

// Stats returns the responder's counters.
func (r *Responder) Stats() Stats { return r.stats.snapshot(r.devices) }

// errShuttingDown answers requests that arrive while the server stops.
var errShuttingDown = recipes.Errorf(recipes.EUNAVAILABLE, "server is shutting down; retry shortly")
