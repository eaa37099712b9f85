// Package fleet simulates a fleet of appliances against recipesd for
// capacity planning: thousands of devices connecting at a given rate, a
// share of them asking for recipes at a given rate, and every reply
// accounted for exactly once. "appliance bench" runs it.
//
// Each simulated device is one TCP connection and one goroutine reading
// it (active devices have a second one sending), speaking MQTT 5 through
// paho.golang's packet codec rather than through a paho client: a paho
// client costs several goroutines, channels and timers per connection,
// which at 15,000 devices a process is most of the generator's memory
// (measured: about 21 KB of RSS and three goroutines per paho client,
// about 8 KB and one goroutine per idle device here).
// The protocol-exact client, internal/appliance, discovers the catalog.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Device is one registered device.
type Device struct {
	ID     string
	Secret string // empty: connect without a password
}

// Options configures a run. The zero value of each tunable works.
type Options struct {
	Servers []string // MQTT addresses; devices are spread over them round-robin
	Sources []string // local IP addresses to connect from, round-robin; none: the system's choice
	Devices []Device

	ConnectRate    float64       // connects started per second; 0: all at once
	ConnectTimeout time.Duration // dial to SUBACK; default 10 s
	KeepAlive      time.Duration // default 30 s; 0 is taken as the default, negative as none
	QoS            byte          // of requests and of the reply subscription
	ReceiveMaximum uint16        // sent in CONNECT; 0: none (the server assumes 65535)

	Active   float64       // share of devices that send requests, 0..1
	Rate     float64       // requests per second of each active device; default 1
	Inflight int           // most unanswered requests per device; default 16
	Mix      Mix           // default DefaultMix
	Targets  *Targets      // what to ask for; nil: [Discover] with the first device
	Warmup   time.Duration // requests sent before this are not measured
	Duration time.Duration // the measured window; default 10 s
	Timeout  time.Duration // a reply later than this is late; after the window, the wait for the last replies; default 5 s

	// NoCommands leaves commands unanswered: by default each device
	// subscribes to its command topic too and answers every command at
	// once with status 200, so that RRPC calls can be measured across
	// the fleet.
	NoCommands bool

	// Progress, if set, is called about once a second.
	Progress func(Progress)
}

// Progress is the state of a run, for a live display.
type Progress struct {
	Elapsed    time.Duration `json:"elapsed_ns"`
	Devices    int           `json:"devices"`
	Connected  int           `json:"connected"`
	RoundTrips float64       `json:"round_trips_per_second"` // in the last second
	P99        time.Duration `json:"p99_ns"`                 // of the replies in the last second
	Errors     uint64        `json:"errors"`                 // failed or refused connects, drops, disconnects, 5xx, unaccounted replies
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 10 * time.Second
	}
	switch {
	case c.KeepAlive == 0:
		c.KeepAlive = 30 * time.Second
	case c.KeepAlive < 0:
		c.KeepAlive = 0
	}
	if c.Rate <= 0 {
		c.Rate = 1
	}
	if c.Inflight <= 0 {
		c.Inflight = 16
	}
	if c.Mix == nil {
		c.Mix, _ = ParseMix(DefaultMix)
	}
	if c.Duration <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

func (o *Options) validate() error {
	var errs []error
	if len(o.Servers) == 0 {
		errs = append(errs, errors.New("no server address"))
	}
	if len(o.Devices) == 0 {
		errs = append(errs, errors.New("no devices"))
	}
	if o.Active < 0 || o.Active > 1 {
		errs = append(errs, fmt.Errorf("active share %g: must be between 0 and 1", o.Active))
	}
	if o.QoS > 1 {
		errs = append(errs, fmt.Errorf("QoS %d: must be 0 or 1", o.QoS))
	}
	if o.KeepAlive > 65535*time.Second {
		errs = append(errs, fmt.Errorf("keep-alive %s: at most 65535s", o.KeepAlive))
	}
	for _, s := range o.Sources {
		if net.ParseIP(s) == nil {
			errs = append(errs, fmt.Errorf("source address %q: not an IP address", s))
		}
	}
	return errors.Join(errs...)
}

// bench is one run.
type bench struct {
	o          Options
	nonce      uint32 // in every correlation, so that a reply from another run is stray
	targets    *Targets
	mixWeights [6]int
	mixTotal   int
	sources    []net.IP

	start, warmEnd time.Time
	sendEndNS      atomic.Int64 // unix ns: no request is sent after it; earlier when ctx ends

	conns   []atomic.Pointer[conn] // by device index, while connected
	pending atomic.Int64           // requests sent and not answered, fleet-wide

	// Counters.
	attempted, connected, dropped atomic.Int64
	lastConnect                   atomic.Int64 // unix ns of the last device connected
	refused, failed, serverDisc   counter
	pubackRefused, sendErrors     counter
	connack                       Histogram
	latency                       Histogram
	interval                      atomic.Pointer[Histogram] // the replies of the current second, for Progress
	replies                       atomic.Uint64             // every reply, for Progress
	sent, sentAll, answered       atomic.Uint64
	skipped                       atomic.Uint64
	missing, dup, stray, late     atomic.Uint64
	kinds                         [6]kindCounter
	serverErrors                  atomic.Uint64 // 5xx replies
	commands, commandsAnswered    atomic.Uint64
	generator                     GeneratorSummary
}

// Run runs the fleet until the warm-up and the measured window are over
// (or ctx ends, which ends the window early) and returns what it measured.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("fleet: %w", err)
	}
	b := &bench{o: o, nonce: rand.Uint32(), targets: o.Targets, conns: make([]atomic.Pointer[conn], len(o.Devices))}
	for _, s := range o.Sources {
		b.sources = append(b.sources, net.ParseIP(s))
	}
	for k, w := range o.Mix {
		b.mixWeights[kindIndex(k)] = w
		b.mixTotal += w
	}
	b.interval.Store(&Histogram{})
	if b.targets == nil && b.activeCount() > 0 {
		ts, err := Discover(ctx, o.Servers[0], o.Devices[0], o.QoS, 50)
		if err != nil {
			return nil, fmt.Errorf("fleet: %w", err)
		}
		b.targets = ts
	}
	b.run(ctx)
	return b.summary(), nil
}

// isActive spreads the active devices evenly over the fleet.
func (b *bench) isActive(i int) bool {
	a := b.o.Active
	return int(float64(i+1)*a) > int(float64(i)*a)
}

func (b *bench) activeCount() int { return int(float64(len(b.o.Devices)) * b.o.Active) }

func (b *bench) run(ctx context.Context) {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.start = time.Now()
	b.warmEnd = b.start.Add(b.o.Warmup)
	b.sendEndNS.Store(b.warmEnd.Add(b.o.Duration).UnixNano())

	var wg sync.WaitGroup
	done := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Go(func() { b.progressLoop(done) })
	if b.o.KeepAlive > 0 {
		helpers.Go(func() { b.pingLoop(done) })
	}

	// Devices start at the connect rate; those not started when the
	// window ends never are.
	wg.Go(func() {
		for i := range b.o.Devices {
			if b.o.ConnectRate > 0 {
				at := b.start.Add(time.Duration(float64(i) / b.o.ConnectRate * float64(time.Second)))
				if !sleepUntil(runCtx, at) {
					return
				}
			}
			if runCtx.Err() != nil || !time.Now().Before(b.sendEnd()) {
				return
			}
			wg.Go(func() { b.device(runCtx, i) })
		}
	})

	ended := sleepUntil(ctx, b.sendEnd())
	if !ended {
		b.sendEndNS.Store(time.Now().UnixNano())
	}
	b.generator = sampleGenerator(int(b.connectedNow()))
	cancel() // stops connects under way and the senders
	// The last replies: until none is outstanding, or -timeout.
	for deadline := time.Now().Add(b.o.Timeout); b.pending.Load() > 0 && time.Now().Before(deadline) && ended; {
		time.Sleep(5 * time.Millisecond)
	}
	for i := range b.conns {
		if c := b.conns[i].Load(); c != nil {
			c.close()
		}
	}
	wg.Wait()
	close(done)
	helpers.Wait()
}

func (b *bench) sendEnd() time.Time { return time.Unix(0, b.sendEndNS.Load()) }

// sleepUntil sleeps until t or ctx ends, and says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// device is one simulated appliance's life: connect, then read (and, if
// active, send) until the run closes its connection.
func (b *bench) device(ctx context.Context, i int) {
	c := b.connect(ctx, i)
	if c == nil {
		return
	}
	b.conns[i].Store(c)
	if ctx.Err() != nil {
		// The run closed the connections before this one was stored.
		c.close()
	}
	var sender sync.WaitGroup
	if b.isActive(i) && b.targets != nil && b.targets.Len() > 0 {
		sender.Go(func() { c.sendLoop(ctx) })
	}
	c.readLoop()
	b.conns[i].Store(nil)
	sender.Wait()
	c.forgetPending()
}

func (b *bench) progressLoop(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last, lastAt := b.replies.Load(), time.Now()
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			h := b.interval.Swap(&Histogram{})
			n := b.replies.Load()
			if b.o.Progress != nil {
				b.o.Progress(Progress{
					Elapsed:    now.Sub(b.start),
					Devices:    len(b.o.Devices),
					Connected:  int(b.connectedNow()),
					RoundTrips: float64(n-last) / now.Sub(lastAt).Seconds(),
					P99:        h.Quantile(0.99),
					Errors:     b.errorCount(),
				})
			}
			last, lastAt = n, now
		}
	}
}

func (b *bench) connectedNow() int64 {
	n := int64(0)
	for i := range b.conns {
		if b.conns[i].Load() != nil {
			n++
		}
	}
	return n
}

func (b *bench) errorCount() uint64 {
	sum := func(m map[string]uint64) (n uint64) {
		for _, v := range m {
			n += v
		}
		return n
	}
	return sum(b.refused.snapshot()) + sum(b.failed.snapshot()) + sum(b.serverDisc.snapshot()) + uint64(b.dropped.Load()) +
		sum(b.pubackRefused.snapshot()) + sum(b.sendErrors.snapshot()) + b.serverErrors.Load() + b.dup.Load() + b.stray.Load() + b.late.Load()
}

// pingLoop sends PINGREQ for the connections that have sent nothing for
// three quarters of the keep-alive: one goroutine for the fleet rather
// than a timer per device.
func (b *bench) pingLoop(done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	idle := b.o.KeepAlive * 3 / 4
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			for i := range b.conns {
				if c := b.conns[i].Load(); c != nil && now.Sub(time.Unix(0, c.lastSend.Load())) >= idle {
					c.ping()
				}
			}
		}
	}
}

func (b *bench) summary() *Summary {
	end := time.Now()
	if se := b.sendEnd(); se.Before(end) {
		end = se
	}
	window := end.Sub(b.warmEnd).Seconds()
	s := &Summary{
		Devices:   len(b.o.Devices),
		Active:    b.activeCount(),
		Servers:   b.o.Servers,
		Processes: 1,
		WindowS:   max(window, 0),
		Connect: ConnectSummary{
			Attempted: int(b.attempted.Load()),
			Connected: int(b.connected.Load()),
			Refused:   toInt(b.refused.snapshot()),
			Failed:    toInt(b.failed.snapshot()),
			Histogram: &b.connack,
		},
		Requests: RequestSummary{
			Sent:      b.sent.Load(),
			Answered:  b.answered.Load(),
			SentAll:   b.sentAll.Load(),
			Skipped:   b.skipped.Load(),
			Histogram: &b.latency,
			Statuses:  map[string]uint64{},
			Kinds:     map[string]KindSummary{},
			Puback:    b.pubackRefused.snapshot(),
			Errors:    b.sendErrors.snapshot(),
			Exactly: ExactlyOnce{
				Missing: b.missing.Load(), Duplicate: b.dup.Load(), Stray: b.stray.Load(), Late: b.late.Load(),
			},
		},
		Disconnects: DisconnectSummary{Server: toInt(b.serverDisc.snapshot()), Dropped: int(b.dropped.Load())},
		Generator:   b.generator,
		Commands:    CommandSummary{Received: b.commands.Load(), Answered: b.commandsAnswered.Load()},
	}
	if last := b.lastConnect.Load(); last > 0 {
		s.Connect.AllConnectedS = time.Unix(0, last).Sub(b.start).Seconds()
	}
	for k := range b.kinds {
		ks := b.kinds[k].summary()
		if ks.Sent == 0 {
			continue
		}
		s.Requests.Kinds[kinds[k]] = ks
		s.Requests.Statuses = addMap(s.Requests.Statuses, ks.Statuses)
	}
	if s.Requests.Puback == nil {
		s.Requests.Puback = map[string]uint64{}
	}
	if s.Requests.Errors == nil {
		s.Requests.Errors = map[string]uint64{}
	}
	s.derive()
	return s
}
