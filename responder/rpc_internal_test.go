package responder

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCallsTable(t *testing.T) {
	var cs calls
	a := &pendingCall{device: "oven-a", done: make(chan callOutcome, 1)}
	b := &pendingCall{device: "oven-b", done: make(chan callOutcome, 1)}
	cs.add("corr-a", a)
	cs.add("corr-b", b)

	if c := cs.take("corr-a", "oven-b"); c != nil {
		t.Fatal("an answer from another device was accepted")
	}
	if c := cs.take("unknown", "oven-a"); c != nil {
		t.Fatal("an unknown correlation was accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != a {
		t.Fatal("the real answer was not accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != nil {
		t.Fatal("a duplicate answer was accepted")
	}
	cs.failDevice("oven-b", ErrDeviceGone)
	if o := <-b.done; !errors.Is(o.err, ErrDeviceGone) {
		t.Fatalf("outcome %+v", o)
	}
	if n := cs.count(); n != 0 {
		t.Fatalf("%d calls pending", n)
	}
}

// TestCallOnceBounded: the idempotency memory never forgets an outcome it
// promised to remember; when full, a new key is refused without sending,
// and expired outcomes make room.
func TestCallOnceBounded(t *testing.T) {
	r := New(nil, Options{})
	r.calls.maxOnce = 2
	ctx := context.Background()
	// Not started, every call fails as offline, which is not remembered:
	// fill the memory with answered calls by hand.
	done := make(chan struct{})
	close(done)
	r.calls.once = map[string]*onceEntry{
		"oven\x00a": {done: done, expires: time.Now().Add(time.Minute)},
		"oven\x00b": {done: done, expires: time.Now().Add(time.Minute)},
	}
	if _, err := r.CallOnce(ctx, "c", "oven", "lid.lock", nil, time.Second); !errors.Is(err, ErrTooManyKeys) {
		t.Fatalf("a third key: %v, want ErrTooManyKeys", err)
	}
	if len(r.calls.once) != 2 {
		t.Fatalf("%d outcomes remembered, want the 2 promised", len(r.calls.once))
	}
	r.calls.once["oven\x00a"].expires = time.Now().Add(-time.Second)
	if _, err := r.CallOnce(ctx, "c", "oven", "lid.lock", nil, time.Second); !errors.Is(err, ErrDeviceOffline) {
		t.Fatalf("with an expired outcome to make room: %v, want the call made (offline)", err)
	}
}
