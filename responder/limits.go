package responder

import (
	"fmt"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/responder/edge"
	"github.com/recipesd/recipesd/responder/session"
)

// Limits that keep one device, or one stranger, from costing everyone else.
// The request rate itself is each device's budget (session/strikes.go): a
// request beyond it is answered 429, with a retry-after hint. A device
// that keeps sending anyway collects strikes; so does every publish
// refused for its topic or Response Topic. When the strikes run out the
// device is disconnected (DISCONNECT 0x96 message rate too high, or 0x87
// not authorized), once the requests it had been acknowledged are
// answered.

// tooManyRequests answers req, from device d, 429 and counts a strike if
// the device ignored an earlier 429. It runs on the device's goroutine.
func (r *Responder) tooManyRequests(req *request, d *session.Device, now time.Time) {
	ignored := d.Warned(now, req.qos == 0)
	r.sendTooMany(req, d.RetryAfter(now))
	if ignored {
		r.strike(d, now, packets.ErrMessageRateTooHigh)
	}
}

// strike counts one strike against d and ends its session when it has
// none left.
func (r *Responder) strike(d *session.Device, now time.Time, code packets.Code) {
	if r.opts.AbuseStrikes < 0 || d.Strike(now) {
		return
	}
	r.endSession(d, code)
}

// endSession disconnects d with code once every request it was
// acknowledged is answered and written: from now on its requests are not
// acknowledged (deviceHook.OnPublish), so a device re-sends them to
// whichever server it reaches next. The wait is bounded: a device that
// takes none of its replies is disconnected when its writes time out.
func (r *Responder) endSession(d *session.Device, code packets.Code) {
	cl := d.Client()
	if cl == nil || !d.End() {
		return
	}
	switch code {
	case packets.ErrMessageRateTooHigh:
		r.stats.rateDisconnects.Add(1)
	case packets.ErrQuotaExceeded:
		r.stats.stalledDisconnects.Add(1)
	default:
		r.stats.refusalDisconnects.Add(1)
	}
	r.log.Warn("device ignores the server's answers; disconnecting", "device", d.ID(),
		"reason_code", fmt.Sprintf("0x%02x", code.Code), "reason", code.Reason)
	go func() {
		r.waitAnswered(d, cl)
		_ = r.server.DisconnectClient(cl, code)
	}()
}

// waitAnswered waits until every request device d was acknowledged on cl
// is answered and written, or cl is gone. The wait is bounded: a device
// that takes none of its replies is disconnected when its writes time
// out. The caller has stopped d's admissions ([session.Device.End]).
func (r *Responder) waitAnswered(d *session.Device, cl *mqtt.Client) {
	deadline := time.Now().Add(r.opts.StoreTimeout + r.opts.WriteTimeout)
	for (d.Lookups() > 0 || !d.Idle()) && time.Now().Before(deadline) && !cl.Closed() {
		time.Sleep(2 * time.Millisecond)
	}
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
func (r *Responder) badPacket(dc *deviceConn, fe *edge.FrameError) {
	r.stats.malformed.Add(1)
	if cl := dc.client; cl != nil && dc.established {
		r.log.Warn("device sent a bad packet; disconnected", "device", cl.ID,
			"reason", fe.Reason, "reason_code", fmt.Sprintf("0x%02x", fe.Code))
		_ = r.server.DisconnectClient(cl, packets.Code{Code: fe.Code, Reason: fe.Reason})
		return
	}
	r.log.Debug("bad packet before CONNACK; connection closed", "remote", dc.RemoteAddr().String(), "reason", fe.Reason)
	dc.Refuse(fe)
}
