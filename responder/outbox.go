package responder

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// device is the responder's view of one device session: its connection (nil
// while offline), its subscriptions, its request budget and its outbox.
//
// The outbox replaces mochi's delivery for everything we send: QoS 1 packet
// identifiers come from here, at most Receive Maximum of them are unacked at
// once (the device's PUBACKs are seen in the packet-read hook), the rest
// wait in order, and unacked ones are resent with DUP when the session
// resumes. mochi's inflight store is never touched from another goroutine,
// which is what its deadlock and quota-leak defects need.
type device struct {
	id      string
	limiter tokenBucket
	strikes tokenBucket // 429s it may ignore before it is disconnected (limits.go)

	// lookups counts the device's requests waiting in the worker pool;
	// ending is set once the device is to be disconnected, after its
	// accepted requests are answered (limits.go).
	lookups atomic.Int32
	ending  atomic.Bool

	// The 429 episode (limits.go), in Unix nanoseconds, 0 when unset: the
	// episode's first 429, its latest, and when the device acknowledged one.
	warnedAt, lastWarn, seenAt atomic.Int64

	mu         sync.Mutex
	model      string // the authenticated device's model; "" sees everything
	cl         *mqtt.Client
	subs       []subscription
	receiveMax int
	maxPacket  uint32
	nextID     uint16
	writing    bool              // a goroutine is draining the queue
	inflight   []*packets.Packet // unacked QoS 1, oldest first
	queue      []*packets.Packet // waiting for the connection or for quota
	limit      int
	progress   time.Time // when the device last acknowledged a packet, or its session began
}

type subscription struct {
	filter string
	qos    byte
	id     int
}

// attach binds a (re)connected client. A clean start drops what the old
// session had; a resumed one keeps subscriptions and resends unacked
// replies with DUP set, as MQTT requires.
func (d *device) attach(cl *mqtt.Client, clean bool) {
	d.ending.Store(false)
	d.mu.Lock()
	d.cl = cl
	d.progress = time.Now()
	d.warnedAt.Store(0)
	d.lastWarn.Store(0)
	d.seenAt.Store(0)
	d.receiveMax = int(cl.Properties.Props.ReceiveMaximum)
	if d.receiveMax == 0 {
		d.receiveMax = 65535
	}
	d.maxPacket = cl.Properties.Props.MaximumPacketSize
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

func (d *device) setModel(m string) {
	d.mu.Lock()
	d.model = m
	d.mu.Unlock()
}

func (d *device) modelName() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.model
}

// client returns the device's connection, nil while it is offline.
func (d *device) client() *mqtt.Client {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cl
}

// detach forgets cl if it is still the device's connection.
func (d *device) detach(cl *mqtt.Client) {
	d.mu.Lock()
	if d.cl == cl {
		d.cl = nil
	}
	d.mu.Unlock()
}

func (d *device) maxPacketSize() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.maxPacket
}

func (d *device) subscribe(s subscription) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.subs {
		if d.subs[i].filter == s.filter {
			d.subs[i] = s
			return
		}
	}
	d.subs = append(d.subs, s)
}

// unsubscribe removes the subscription to filter and reports whether
// there was one.
func (d *device) unsubscribe(filter string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range d.subs {
		if d.subs[i].filter == filter {
			d.subs = append(d.subs[:i], d.subs[i+1:]...)
			return true
		}
	}
	return false
}

// deliver queues pk for the device, if it subscribes to pk's topic, and
// starts writing unless someone already is. A bounded packet (a command)
// is dropped when the outbox is full; a reply is not: the request it
// answers was admitted, and admission stops while the outbox is full
// (admit.go), so the queue overshoots its limit by at most the requests
// in flight. On the device's own goroutine
// (inline) it writes directly; elsewhere it hands the writing to a new
// goroutine so that a slow device cannot hold a pool worker. It reports
// false when pk was dropped.
func (d *device) deliver(pk *packets.Packet, inline, bounded bool) bool {
	d.mu.Lock()
	granted, ids, ok := d.match(pk.TopicName)
	if !ok || (d.cl == nil && pk.FixedHeader.Qos == 0) {
		d.mu.Unlock()
		return false
	}
	if bounded && len(d.queue) >= d.limit {
		d.mu.Unlock()
		return false
	}
	if pk.FixedHeader.Qos > granted {
		pk.FixedHeader.Qos = granted
	}
	pk.Properties.SubscriptionIdentifier = ids
	d.queue = append(d.queue, pk)
	if d.writing || d.cl == nil {
		d.mu.Unlock()
		return true
	}
	d.writing = true
	d.mu.Unlock()
	if inline {
		d.drain()
	} else {
		go d.drain()
	}
	return true
}

// match returns the highest QoS granted by the device's subscriptions that
// match topic and their subscription identifiers.
func (d *device) match(topic string) (qos byte, ids []int, ok bool) {
	for _, s := range d.subs {
		if matchFilter(s.filter, topic) {
			ok = true
			qos = max(qos, s.qos)
			if s.id > 0 {
				ids = append(ids, s.id)
			}
		}
	}
	return qos, ids, ok
}

// drain writes queued packets while the connection is up and the device's
// Receive Maximum allows. The caller has set d.writing.
func (d *device) drain() {
	for {
		d.mu.Lock()
		if d.cl == nil || len(d.queue) == 0 ||
			(d.queue[0].FixedHeader.Qos > 0 && len(d.inflight) >= d.receiveMax) {
			d.writing = false
			d.mu.Unlock()
			return
		}
		pk := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		if pk.Expiry > 0 && pk.Expiry < time.Now().Unix() {
			d.mu.Unlock()
			continue
		}
		if pk.FixedHeader.Qos > 0 {
			pk.PacketID = d.newPacketID()
			d.inflight = append(d.inflight, pk)
		}
		cl, out := d.cl, *pk
		d.mu.Unlock()
		if cl.WritePacket(out) != nil {
			// The connection is gone (a failed write closes it); an
			// unacknowledged QoS 1 packet is resent when the session
			// resumes, and the queue waits for that.
			d.mu.Lock()
			d.writing = false
			d.mu.Unlock()
			return
		}
	}
}

// newPacketID returns an identifier not used by any unacked packet.
func (d *device) newPacketID() uint16 {
	for {
		d.nextID++
		if d.nextID == 0 {
			d.nextID = 1
		}
		free := true
		for _, pk := range d.inflight {
			if pk.PacketID == d.nextID {
				free = false
				break
			}
		}
		if free {
			return d.nextID
		}
	}
}

// acked releases the quota held by packet id and continues writing.
func (d *device) acked(id uint16, now time.Time) {
	d.mu.Lock()
	for i, pk := range d.inflight {
		if pk.PacketID == id {
			if isTooManyRequests(pk) && d.seenAt.Load() == 0 {
				d.seenAt.Store(now.UnixNano()) // it has seen a 429 (limits.go)
			}
			d.inflight = append(d.inflight[:i], d.inflight[i+1:]...)
			d.progress = now
			break
		}
	}
	if d.writing || len(d.queue) == 0 || d.cl == nil {
		d.mu.Unlock()
		return
	}
	d.writing = true
	d.mu.Unlock()
	d.drain() // on the device's own goroutine
}

// congested reports whether the outbox is full, and if so, whether it has
// made no progress (no acknowledgement) since before.
func (d *device) congested(before time.Time) (full, stalled bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	full = d.cl != nil && len(d.queue) >= d.limit
	return full, full && d.progress.Before(before)
}

// idle reports whether nothing is being written or waits to be.
func (d *device) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.writing && (len(d.queue) == 0 || d.cl == nil)
}

// registry holds the device sessions the broker knows.
type registry struct {
	mu      sync.RWMutex
	devices map[string]*device
	count   atomic.Int64
}

func newRegistry() *registry {
	return &registry{devices: map[string]*device{}}
}

func (g *registry) get(id string) *device {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.devices[id]
}

// session returns the device for id, creating it if needed.
func (g *registry) session(id string, create func() *device) *device {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, ok := g.devices[id]
	if !ok {
		d = create()
		g.devices[id] = d
	}
	return d
}

func (g *registry) remove(id string, d *device) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.devices[id] == d {
		delete(g.devices, id)
	}
}

func (g *registry) all() []*device {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]*device, 0, len(g.devices))
	for _, d := range g.devices {
		out = append(out, d)
	}
	return out
}

// waitFlushed waits until every outbox is idle or ctx ends.
func (g *registry) waitFlushed(ctx context.Context) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		busy := false
		for _, d := range g.all() {
			if !d.idle() {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
