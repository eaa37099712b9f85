package responder

import (
	"math"
	"sync"
	"time"
)

// tokenBucket limits one device's request rate.
type tokenBucket struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
}

func newTokenBucket(rate float64, burst int) tokenBucket {
	return tokenBucket{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

// allow takes a token if one is left at time now.
func (b *tokenBucket) allow(now time.Time) bool {
	ok, _ := b.take(now)
	return ok
}

// take takes a token if one is left at time now, and reports whether the
// bucket was full before.
func (b *tokenBucket) take(now time.Time) (ok, full bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	full = b.tokens >= b.burst
	if b.tokens < 1 {
		return false, full
	}
	b.tokens--
	return true, full
}

// retryAfter returns the whole seconds, at least one, until the bucket
// has a token again, as of now.
func (b *tokenBucket) retryAfter(now time.Time) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	tokens := min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	if tokens >= 1 || b.rate <= 0 {
		return 1
	}
	return max(1, int(math.Ceil((1-tokens)/b.rate)))
}
