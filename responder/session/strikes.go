package session

import "time"

// A device's request budget and its strikes. A request beyond the budget
// is answered 429 with a retry-after hint. A device that keeps sending
// anyway collects strikes in a second bucket, which refills at a tenth of
// the request rate; when they run out the server disconnects it.
//
// Only a request the device sent after it could have seen a 429 counts:
// one read after the device acknowledged a 429 reply (TCP keeps order, so
// it was sent after the 429 arrived), or, for replies at QoS 0 that are
// never acknowledged, one read more than strikeGrace after the episode's
// first 429. A burst sent at once is answered in full, 200s and 429s,
// however large it is. The episode ends when the device has stayed
// within its rate for strikeGrace and its bucket is full again.

// strikeGrace is the round trip a device is granted to see its first 429.
const strikeGrace = time.Second

// TakeRequest takes one request from the device's budget at now; ok is
// false when there is none left, and full reports whether the budget was
// full before.
func (d *Device) TakeRequest(now time.Time) (ok, full bool) { return d.limiter.take(now) }

// RetryAfter returns the whole seconds, at least one, until the device
// may send a request again.
func (d *Device) RetryAfter(now time.Time) int { return d.limiter.retryAfter(now) }

// Warned records a 429 answered at now and reports whether the device
// ignored an earlier one: it acknowledged a 429 before, or (qos0: its
// replies are never acknowledged) the episode began over strikeGrace ago.
func (d *Device) Warned(now time.Time, qos0 bool) (ignored bool) {
	n := now.UnixNano()
	first := d.warnedAt.Load()
	if first == 0 {
		d.warnedAt.Store(n)
	}
	d.lastWarn.Store(n)
	return d.seenAt.Load() != 0 || (qos0 && first != 0 && n-first > int64(strikeGrace))
}

// WithinRate ends the device's 429 episode once it has kept to its rate
// long enough for its bucket to be full again (full, from
// [Device.TakeRequest]), so that bursts spaced just beyond the grace
// cannot each start a new episode.
func (d *Device) WithinRate(now time.Time, full bool) {
	if last := d.lastWarn.Load(); full && last != 0 && now.UnixNano()-last > int64(strikeGrace) {
		d.warnedAt.Store(0)
		d.seenAt.Store(0)
		d.lastWarn.Store(0)
	}
}

// Strike counts one strike at now and reports whether the device had any
// left.
func (d *Device) Strike(now time.Time) bool { return d.strikes.allow(now) }
