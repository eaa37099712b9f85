package session

import (
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// The outbox replaces mochi's delivery for everything the server sends a
// device (see [Device]): packet identifiers, flow control by the device's
// Receive Maximum, order, and resending on a resumed session.

// Deliver queues pk for the device, if it subscribes to pk's topic, and
// starts writing unless someone already is. A bounded packet (a command)
// is dropped when the outbox is full; a reply is not: the request it
// answers was admitted, and admission stops while the outbox is full
// ([Device.Congested]), so the queue overshoots its limit by at most the
// requests in flight. On the device's own goroutine
// (inline) it writes directly; elsewhere it hands the writing to a new
// goroutine so that a slow device cannot hold a pool worker. It reports
// false when pk was dropped.
func (d *Device) Deliver(pk *packets.Packet, inline, bounded bool) bool {
	d.mu.Lock()
	if !d.shape(pk) || (d.cl == nil && pk.FixedHeader.Qos == 0) {
		d.mu.Unlock()
		return false
	}
	if bounded && len(d.queue) >= d.cfg.OutboxLimit {
		d.mu.Unlock()
		return false
	}
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

// Shape gives pk the QoS and Subscription Identifiers it is written with
// (Deliver does the same), so that its exact size can be measured before
// it is delivered; it reports false when the device does not subscribe to
// pk's topic.
func (d *Device) Shape(pk *packets.Packet) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.shape(pk)
}

// shape is Shape with d.mu held.
func (d *Device) shape(pk *packets.Packet) bool {
	granted, ids, ok := d.match(pk.TopicName)
	if !ok {
		return false
	}
	if pk.FixedHeader.Qos > granted {
		pk.FixedHeader.Qos = granted
	}
	pk.Properties.SubscriptionIdentifier = ids
	return true
}

// drain writes queued packets while the connection is up and the device's
// Receive Maximum allows. The caller has set d.writing.
func (d *Device) drain() {
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
func (d *Device) newPacketID() uint16 {
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

// Acked releases the quota held by packet id and continues writing.
func (d *Device) Acked(id uint16, now time.Time) {
	d.mu.Lock()
	for i, pk := range d.inflight {
		if pk.PacketID == id {
			if d.cfg.IsWarning != nil && d.cfg.IsWarning(pk) && d.seenAt.Load() == 0 {
				d.seenAt.Store(now.UnixNano()) // it has seen a 429 (strikes.go)
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

// Congested reports whether the outbox is full, and if so, whether it has
// made no progress (no acknowledgement) since before.
func (d *Device) Congested(before time.Time) (full, stalled bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	full = d.cl != nil && len(d.queue) >= d.cfg.OutboxLimit
	return full, full && d.progress.Before(before)
}

// Idle reports whether nothing is being written or waits to be.
func (d *Device) Idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.writing && (len(d.queue) == 0 || d.cl == nil)
}
