package responder

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/responder/session"
)

func TestStatsQuantile(t *testing.T) {
	var s stats
	for range 98 {
		s.replied(200, 80*time.Microsecond)
	}
	s.replied(200, 3*time.Millisecond)
	s.replied(200, 10*time.Second)
	got := s.snapshot(session.NewRegistry())
	if p50 := got.Quantile(0.5); p50 != 100*time.Microsecond {
		t.Errorf("p50 = %v, want 100µs", p50)
	}
	if p99 := got.Quantile(0.99); p99 != 5*time.Millisecond {
		t.Errorf("p99 = %v, want 5ms", p99)
	}
	if p100 := got.Quantile(1); p100 != 10*time.Second {
		t.Errorf("p100 = %v, want 10s: twice the largest bound, as the dashboard reads it", p100)
	}
	if got.Replies[200] != 100 || got.Latency[len(got.Latency)-1] != 1 {
		t.Errorf("replies %v latency %v", got.Replies, got.Latency)
	}
}
