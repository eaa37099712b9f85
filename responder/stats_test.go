package responder

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/responder/session"
)

// TestStatsLatencyHistogram: a reply, or an answered call, is counted in
// the first bucket whose bound it does not exceed, and above every bound
// in the last element.
func TestStatsLatencyHistogram(t *testing.T) {
	var s stats
	for range 98 {
		s.replied(200, 80*time.Microsecond)
	}
	s.replied(200, 3*time.Millisecond)
	s.replied(200, 10*time.Second)
	got := s.snapshot(session.NewRegistry())
	want := make([]int64, len(LatencyBuckets)+1)
	want[0] = 98                  // up to 100µs
	want[5] = 1                   // up to 5ms
	want[len(LatencyBuckets)] = 1 // above 5s
	for i := range want {
		if got.Latency[i] != want[i] {
			t.Fatalf("latency histogram %v, want %v", got.Latency, want)
		}
	}
	s.called(outAnswered, 3*time.Millisecond)
	s.called(outTimeout, time.Minute) // not answered: no latency
	got = s.snapshot(session.NewRegistry())
	if got.CallLatency[5] != 1 || got.CallLatency[len(LatencyBuckets)] != 0 {
		t.Fatalf("call latency histogram %v, want one call up to 5ms", got.CallLatency)
	}
	if got.Replies[200] != 100 {
		t.Errorf("replies %v, want 100 of status 200", got.Replies)
	}
	if want := 98*80*time.Microsecond + 3*time.Millisecond + 10*time.Second; got.LatencyTotal != want {
		t.Errorf("latency total %v, want %v", got.LatencyTotal, want)
	}
}
