package session

import (
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// A Device is the server's view of one device session: its connection
// (nil while offline), its subscriptions, its request budget and its
// outbox.
//
// The outbox replaces mochi's delivery for everything we send: QoS 1 packet
// identifiers come from here, at most Receive Maximum of them are unacked at
// once (the device's PUBACKs are seen in the packet-read hook), the rest
// wait in order, and unacked ones are resent with DUP when the session
// resumes. mochi's inflight store is never touched from another goroutine,
// which is what its deadlock and quota-leak defects need.
type Device struct {
	id      string
	cfg     *Config
	limiter bucket
	strikes bucket // 429s it may ignore before it is disconnected (strikes.go)

	// lookups counts the device's requests waiting in the worker pool;
	// ending is set once the device is to be disconnected, after its
	// accepted requests are answered.
	lookups atomic.Int32
	ending  atomic.Bool

	// The 429 episode (strikes.go), in Unix nanoseconds, 0 when unset: the
	// episode's first 429, its latest, and when the device acknowledged one.
	warnedAt, lastWarn, seenAt atomic.Int64

	// Set by Attach, read for every request and reply without the lock:
	// what the device was admitted as, and the Maximum Packet Size it
	// declared (0 for none).
	admitted  atomic.Pointer[admitted]
	maxPacket atomic.Uint32

	mu         sync.Mutex
	cl         *mqtt.Client
	subs       []Subscription
	receiveMax int
	nextID     uint16
	writing    bool              // a goroutine is draining the queue
	inflight   []*packets.Packet // unacked QoS 1, oldest first
	queue      []*packets.Packet // waiting for the connection or for quota
	progress   time.Time         // when the device last acknowledged a packet, or its session began
}

// Config is what the sessions of one server share.
type Config struct {
	OutboxLimit int // replies and commands queued for one device

	// RequestRate and RequestBurst are each device's request budget
	// (requests per second); Strikes is how many 429s it may ignore, a
	// bucket refilled at a tenth of RequestRate (strikes.go).
	RequestRate  float64
	RequestBurst int
	Strikes      int

	// IsWarning reports whether an outbox packet is a 429 reply: a device
	// that acknowledges one has seen it.
	IsWarning func(*packets.Packet) bool
}

// Identity is what a device's session was admitted as, from its
// registration. A change to it ends the session (the registry revokes
// it), so it holds for the session's life.
type Identity struct {
	Model  string // "" sees everything
	Locale string // BCP 47, canonical; "" for the catalog's default
}

// admitted is an Identity with what every request reads of it prepared.
type admitted struct {
	model     string
	languages []string // the locale alone, or nil: shared, never written
}

// NewDevice returns the session of device id, offline, with a full
// request budget.
func NewDevice(id string, cfg *Config) *Device {
	d := &Device{id: id, cfg: cfg}
	d.limiter.init(cfg.RequestRate, cfg.RequestBurst)
	d.strikes.init(cfg.RequestRate/10, max(cfg.Strikes, 1))
	return d
}

// ID returns the device's ID.
func (d *Device) ID() string { return d.id }

// Attach binds a (re)connected client, authenticated as id. A clean start drops what the old session had; a resumed one keeps
// subscriptions and resends unacked replies with DUP set, as MQTT
// requires.
//
// A client already closed is not bound: mochi runs a session's
// established hook even when a newer connection of the device took it
// over in between, and binding the old client then would unbind the new
// one. The new one is bound after mochi closed the old (its takeover
// stops the old client first), so under d.mu one of the two orders holds:
// the old one sees itself closed, or it is bound first and replaced.
func (d *Device) Attach(cl *mqtt.Client, clean bool, id Identity) {
	ad := &admitted{model: id.Model}
	if id.Locale != "" {
		ad.languages = []string{id.Locale}
	}
	d.mu.Lock()
	if cl.Closed() {
		d.mu.Unlock()
		return
	}
	d.ending.Store(false)
	d.admitted.Store(ad)
	d.maxPacket.Store(cl.Properties.Props.MaximumPacketSize)
	d.cl = cl
	d.progress = time.Now()
	d.warnedAt.Store(0)
	d.lastWarn.Store(0)
	d.seenAt.Store(0)
	d.receiveMax = int(cl.Properties.Props.ReceiveMaximum)
	if d.receiveMax == 0 {
		d.receiveMax = 65535
	}
	if clean {
		d.subs, d.inflight, d.queue = nil, nil, nil
	}
	resend := make([]packets.Packet, len(d.inflight))
	for i, pk := range d.inflight {
		pk.FixedHeader.Dup = true
		resend[i] = *pk
	}
	start := !d.writing
	d.writing = true
	d.mu.Unlock()

	for _, pk := range resend {
		if cl.WritePacket(pk) != nil {
			break
		}
	}
	if start {
		d.drain()
	}
}

// Model returns the authenticated device's model, which decides what it
// sees; "" sees everything.
func (d *Device) Model() string {
	if a := d.admitted.Load(); a != nil {
		return a.model
	}
	return ""
}

// Languages returns the device's locale as the languages it wants, nil
// for none. The slice is shared by every request of the session: callers
// must not write to it (append copies, as its capacity is its length).
func (d *Device) Languages() []string {
	if a := d.admitted.Load(); a != nil {
		return a.languages
	}
	return nil
}

// Client returns the device's connection, nil while it is offline.
func (d *Device) Client() *mqtt.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cl
}

// Detach forgets cl if it is still the device's connection.
func (d *Device) Detach(cl *mqtt.Client) {
	d.mu.Lock()
	if d.cl == cl {
		d.cl = nil
	}
	d.mu.Unlock()
}

// MaxPacketSize returns the Maximum Packet Size the device declared, 0
// for none.
func (d *Device) MaxPacketSize() uint32 { return d.maxPacket.Load() }

// LookupStarted and LookupDone count the device's requests waiting in
// the worker pool; Lookups returns how many are.
func (d *Device) LookupStarted() { d.lookups.Add(1) }
func (d *Device) LookupDone()    { d.lookups.Add(-1) }
func (d *Device) Lookups() int32 { return d.lookups.Load() }

// End marks the device as to be disconnected, and reports whether it was
// not already; Ending reports whether it is. A new session clears it.
func (d *Device) End() bool    { return d.ending.CompareAndSwap(false, true) }
func (d *Device) Ending() bool { return d.ending.Load() }
