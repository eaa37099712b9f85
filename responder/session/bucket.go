package session

import (
	"math"
	"time"

	"golang.org/x/time/rate"
)

// bucket is a token bucket that can also tell whether it was full: the
// 429 episode (strikes.go) ends only once the device has kept to its rate
// long enough to fill its bucket again.
//
// It holds its rate.Limiter by value, set up through SetBurstAt and
// SetLimitAt on the zero Limiter, so that the per-request check costs no
// pointer to chase. A zero Limiter last updated at the zero time has
// refilled to its burst by any real time, so the bucket starts full.
type bucket struct {
	lim rate.Limiter
}

func (b *bucket) init(perSecond float64, burst int) {
	b.lim.SetBurstAt(time.Time{}, burst)
	b.lim.SetLimitAt(time.Time{}, rate.Limit(perSecond))
}

// allow takes a token if one is left at time now.
func (b *bucket) allow(now time.Time) bool { return b.lim.AllowN(now, 1) }

// take takes a token if one is left at time now, and reports whether the
// bucket was full before.
func (b *bucket) take(now time.Time) (ok, full bool) {
	full = b.lim.TokensAt(now) >= float64(b.lim.Burst())
	return b.lim.AllowN(now, 1), full
}

// retryAfter returns the whole seconds, at least one, until the bucket
// has a token again, as of now.
func (b *bucket) retryAfter(now time.Time) int {
	tokens, perSecond := b.lim.TokensAt(now), float64(b.lim.Limit())
	if tokens >= 1 || perSecond <= 0 {
		return 1
	}
	return max(1, int(math.Ceil((1-tokens)/perSecond)))
}
