package responder

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/edge"
)

// Admission. mochi acknowledges a QoS 1 request (PUBACK) before it hands
// it to the request handler, so a request acknowledged just before the
// server stops, or before a device is disconnected, would never be
// answered. Instead the publish hook, which runs before the PUBACK,
// decides: a request it admits is counted until its handler has answered
// or queued it (OnPublished), and Close and endSession wait for that; a
// request it does not admit is not acknowledged at all, so the device
// sends it again to the server it reaches next (PROTOCOL.md §5).

// admit decides whether the request pk from cl is accepted. Besides the
// server closing and the device being disconnected, a full outbox stops
// admission: the device does not take its replies as fast as it asks, and
// the requests it sends meanwhile wait on its side, unacknowledged. If the
// outbox makes no progress for the write timeout, the device takes none
// of its replies and is disconnected (0x97 quota exceeded).
func (r *Responder) admit(cl *mqtt.Client, dc *deviceConn, pk packets.Packet) error {
	d := r.devices.Get(cl.ID)
	if d != nil {
		if full, stalled := d.Congested(time.Now().Add(-r.opts.WriteTimeout)); full {
			if stalled {
				r.endSession(d, packets.ErrQuotaExceeded)
			}
			return packets.ErrRejectPacket
		}
	}
	r.gate.RLock()
	closing := r.closing
	if !closing && (d == nil || !d.Ending()) {
		dc.admitted = true
		r.unhandled.Add(1)
		r.gate.RUnlock()
		return nil
	}
	r.gate.RUnlock()
	if closing && pk.FixedHeader.Qos == 0 {
		// Nothing to withhold: a QoS 0 request is answered now or never.
		if req, ok := r.newRequest(pk, time.Now()); ok {
			req.dev = d
			r.answer(req, recipes.Document{}, errShuttingDown, true)
		}
	}
	return packets.ErrRejectPacket
}

// handled ends the admission of the request dc's device published last:
// its handler has run, or the connection ended before it could.
func (r *Responder) handled(dc *deviceConn) {
	if dc != nil && dc.admitted {
		dc.admitted = false
		r.unhandled.Add(-1)
	}
}

// refusePublish refuses a publish the device may not make: QoS 1 gets
// PUBACK and QoS 2 PUBREC with 0x87 (not authorized), written here
// because mochi would acknowledge a hook's refusal with PUBACK whatever
// the QoS. It is counted, logged at a bounded rate and without payload,
// and counts as a strike against the device.
func (r *Responder) refusePublish(cl *mqtt.Client, pk packets.Packet, why string) {
	r.stats.refused.Add(1)
	if pk.FixedHeader.Qos > 0 {
		ack := packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Puback},
			PacketID:    pk.PacketID,
			ReasonCode:  packets.ErrNotAuthorized.Code,
			Properties:  packets.Properties{ReasonString: why},
		}
		if pk.FixedHeader.Qos == 2 {
			ack.FixedHeader.Type = packets.Pubrec
		}
		_ = cl.WritePacket(ack)
	}
	r.refused(cl.ID, pk.TopicName, why, "qos", pk.FixedHeader.Qos, "payload_bytes", len(pk.Payload))
}

// refused logs (at a bounded rate, never the payload) and strikes a
// refused publish.
func (r *Responder) refused(id, topic, why string, attrs ...any) {
	if r.refusals.Allow() {
		r.log.Info("publish refused", append([]any{"device", id, "topic", edge.Clip(topic), "reason", why,
			"suppressed", r.suppressed.Swap(0)}, attrs...)...)
	} else {
		r.suppressed.Add(1)
	}
	if d := r.devices.Get(id); d != nil {
		r.strike(d, time.Now(), packets.ErrNotAuthorized)
	}
}
