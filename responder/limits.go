package responder

import (
	"fmt"
	"runtime/debug"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Limits that keep one device, or one stranger, from costing everyone else.
// The request rate itself is each device's token bucket (limiter.go): a
// request beyond it is answered 429. A device that keeps sending anyway
// collects a strike per 429 in a second bucket, which refills at a tenth of
// the request rate; when it runs dry the device is disconnected with
// DISCONNECT 0x96 (message rate too high). A device that only briefly
// exceeds its rate never gets there; one that ignores 429s for seconds does.

// strike counts a 429 against d and disconnects it when it has ignored too
// many. It runs on the device's own goroutine, after the 429 is written.
func (r *Responder) strike(d *device, now time.Time) {
	if r.opts.AbuseStrikes < 0 || d.strikes.allow(now) {
		return
	}
	cl := d.client()
	if cl == nil {
		return
	}
	r.stats.rateDisconnects.Add(1)
	r.log.Warn("device ignores 429 replies; disconnected", "device", d.id, "reason_code", "0x96")
	_ = r.server.DisconnectClient(cl, packets.ErrMessageRateTooHigh)
}

// capKeepalive makes mochi close a silent connection eventually: a device
// that asks for no keep-alive (0) or a very long one gets the server's
// maximum, sent back as Server Keep Alive in CONNACK (MQTT-3.2.2-21).
func (r *Responder) capKeepalive(cl *mqtt.Client) {
	max := uint16(r.opts.MaxKeepalive / time.Second)
	if cl.State.Keepalive == 0 || cl.State.Keepalive > max {
		cl.State.Keepalive = max
		cl.State.ServerKeepalive = true
	}
}

// badPacket is told by a deviceConn that its peer sent a packet that failed
// the checks. The connection is closed by the read error that follows; a
// device with a session is first told why (DISCONNECT with the reason
// code), a connection refused at CONNECT gets a CONNACK saying why.
func (r *Responder) badPacket(dc *deviceConn, fe *frameError) {
	r.stats.malformed.Add(1)
	if cl := dc.client; cl != nil && dc.established {
		r.log.Warn("device sent a bad packet; disconnected", "device", cl.ID,
			"reason", fe.reason, "reason_code", fmt.Sprintf("0x%02x", fe.code))
		_ = r.server.DisconnectClient(cl, packets.Code{Code: fe.code, Reason: fe.reason})
		return
	}
	r.log.Debug("bad packet before CONNACK; connection closed", "remote", dc.RemoteAddr().String(), "reason", fe.reason)
	if fe.connack != nil {
		_, _ = dc.Conn.Write(fe.connack)
	}
}

// recovered cleans up after a panic in a connection goroutine, which the
// listener has caught: the packet checks should make this unreachable, so
// it is logged as an error. mochi's deferred cleanup has run by then (the
// connection is closed, its connected-clients count is down), but its
// disconnect path has not: the session would stay in mochi's client list
// and in our device registry for ever. This does what that path does.
func (r *Responder) recovered(dc *deviceConn, v any) {
	// Counted last, once the books are straight: whoever sees the count
	// sees them straight too.
	defer r.stats.recovered.Add(1)
	id := ""
	if dc.client != nil {
		id = dc.client.ID
	}
	r.log.Error("connection handler panicked; connection closed", "device", id,
		"remote", dc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	cl := dc.client
	if cl == nil {
		return
	}
	cl.Stop(fmt.Errorf("responder: panic: %v", v))
	if cur, ok := r.server.Clients.Get(cl.ID); ok && cur == cl {
		r.server.UnsubscribeClient(cl)
		r.server.Clients.Delete(cl.ID)
	}
	r.sessionEnded(cl, dc, true)
}
