package session

import (
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	var b bucket
	b.init(10, 3)
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !b.allow(now) {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	if b.allow(now) {
		t.Fatal("request beyond the burst allowed")
	}
	if !b.allow(now.Add(110e6)) { // 110 ms at 10/s refills one token
		t.Fatal("token not refilled after 110ms")
	}
	if b.allow(now.Add(110e6)) {
		t.Fatal("second token appeared from nowhere")
	}
}
