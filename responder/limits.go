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
// request beyond it is answered 429, with a retry-after hint. A device
// that keeps sending anyway collects strikes in a second bucket, which
// refills at a tenth of the request rate; so does every publish refused
// for its topic or Response Topic. When the strikes run out the device is
// disconnected (DISCONNECT 0x96 message rate too high, or 0x87 not
// authorized), once the requests it had been acknowledged are answered.
//
// Only a request the device sent after it could have seen a 429 counts:
// one read after the device acknowledged a 429 reply (TCP keeps order, so
// it was sent after the 429 arrived), or, for replies at QoS 0 that are
// never acknowledged, one read more than strikeGrace after the episode's
// first 429. A burst sent at once is answered in full, 200s and 429s,
// however large it is. The episode ends when the device has stayed
// within its rate for strikeGrace.

// strikeGrace is the round trip a device is granted to see its first 429.
const strikeGrace = time.Second

// tooManyRequests answers req, from device d, 429 and counts a strike if
// the device ignored an earlier 429. It runs on the device's goroutine.
func (r *Responder) tooManyRequests(req *request, d *device, now time.Time) {
	n := now.UnixNano()
	first := d.warnedAt.Load()
	if first == 0 {
		d.warnedAt.Store(n)
	}
	d.lastWarn.Store(n)
	r.sendTooMany(req, d.limiter.retryAfter(now))
	if d.seenAt.Load() != 0 || (req.qos == 0 && first != 0 && n-first > int64(strikeGrace)) {
		r.strike(d, now, packets.ErrMessageRateTooHigh)
	}
}

// withinRate ends d's 429 episode once it has kept to its rate long
// enough for its bucket to be full again (full: before this request took
// its token), so that bursts spaced just beyond the grace cannot each
// start a new episode.
func (d *device) withinRate(now time.Time, full bool) {
	if last := d.lastWarn.Load(); full && last != 0 && now.UnixNano()-last > int64(strikeGrace) {
		d.warnedAt.Store(0)
		d.seenAt.Store(0)
		d.lastWarn.Store(0)
	}
}

// strike counts one strike against d and ends its session when it has
// none left.
func (r *Responder) strike(d *device, now time.Time, code packets.Code) {
	if r.opts.AbuseStrikes < 0 || d.strikes.allow(now) {
		return
	}
	r.endSession(d, code)
}

// endSession disconnects d with code once every request it was
// acknowledged is answered and written: from now on its requests are not
// acknowledged (deviceHook.OnPublish), so a device re-sends them to
// whichever server it reaches next. The wait is bounded: a device that
// takes none of its replies is disconnected when its writes time out.
func (r *Responder) endSession(d *device, code packets.Code) {
	cl := d.client()
	if cl == nil || !d.ending.CompareAndSwap(false, true) {
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
	r.log.Warn("device ignores the server's answers; disconnecting", "device", d.id,
		"reason_code", fmt.Sprintf("0x%02x", code.Code), "reason", code.Reason)
	go func() {
		deadline := time.Now().Add(r.opts.StoreTimeout + r.opts.WriteTimeout)
		for (d.lookups.Load() > 0 || !d.idle()) && time.Now().Before(deadline) && !cl.Closed() {
			time.Sleep(2 * time.Millisecond)
		}
		_ = r.server.DisconnectClient(cl, code)
	}()
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
	r.handled(dc)
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
