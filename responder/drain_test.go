package responder_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/responder"
)

// ended waits for c's connection to end and returns the DISCONNECT it
// ended with (nil for none) and when it was known.
func ended(t *testing.T, c *appliance.Client) (code byte, ref string, at time.Time) {
	t.Helper()
	select {
	case <-c.Ended():
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still connected", c.ID)
	}
	at = time.Now()
	d := c.ServerDisconnect()
	if d == nil {
		return 0, "", at
	}
	if d.Properties != nil {
		ref = d.Properties.ServerReference
	}
	return d.ReasonCode, ref, at
}

// TestDrainRefersDevices: a drain stops accepting connections, answers
// the requests it accepted, and then ends every session with DISCONNECT
// 0x9C carrying the Server Reference it is given, at the rate asked for.
func TestDrainRefersDevices(t *testing.T) {
	s := mustServe(t)
	const devices, perSecond = 5, 20
	var clients []*appliance.Client
	for range devices {
		clients = append(clients, s.MustDial(t, appliance.Options{}))
	}
	// Requests still waiting on the store when the drain starts.
	redistest.Stall(t, s.Redis, 30*time.Millisecond)
	ctx := testContext(t, 20*time.Second)
	var replies []<-chan *appliance.Reply
	for _, c := range clients {
		ch, _, err := c.Send(ctx, appliance.Request{Topic: "recipes/soups"})
		if err != nil {
			t.Fatal(err)
		}
		replies = append(replies, ch)
	}

	var mu sync.Mutex
	var asked int
	refer := func(context.Context) string {
		mu.Lock()
		defer mu.Unlock()
		asked++
		return fmt.Sprintf("node-%d.example:1883 node-x.example:1883", asked)
	}
	// When each connection ends, seen as it happens: Drain returns only
	// once all have.
	endedAt := make([]time.Time, devices)
	var watching sync.WaitGroup
	for i, c := range clients {
		watching.Go(func() {
			select {
			case <-c.Ended():
				endedAt[i] = time.Now()
			case <-ctx.Done():
			}
		})
	}
	// The store recovers once the drain has begun, so the requests it
	// waits for end as answers: a stall for the whole drain made a loaded
	// -race run take longer than the drain's bound on waiting (store
	// timeout plus write timeout), and the test is not about that bound.
	recovered := time.AfterFunc(200*time.Millisecond, func() { s.Redis.Server().SetPreHook(nil) })
	defer recovered.Stop()
	if err := s.Responder.Drain(ctx, responder.DrainOptions{Rate: perSecond, Refer: refer}); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", s.MQTTAddr, time.Second); err == nil {
		t.Error("a drained server accepts connections")
	}
	var refs []string
	var first, last time.Time
	for i, c := range clients {
		code, ref, _ := ended(t, c)
		// Whatever reply comes was read before the DISCONNECT closed the
		// connection; paho may hand it over a moment after it reports the
		// end, so it is waited for, not expected at once.
		select {
		case r := <-replies[i]:
			if r.Status != 200 {
				t.Errorf("%s: %s", c.ID, r)
			}
		case <-time.After(2 * time.Second):
			t.Errorf("%s: accepted request not answered before its DISCONNECT", c.ID)
		}
		watching.Wait()
		at := endedAt[i]
		if code != 0x9C {
			t.Errorf("%s: DISCONNECT 0x%02x, want 0x9C", c.ID, code)
		}
		refs = append(refs, ref)
		if first.IsZero() || at.Before(first) {
			first = at
		}
		if at.After(last) {
			last = at
		}
	}
	slices.Sort(refs)
	var want []string
	for i := range devices {
		want = append(want, fmt.Sprintf("node-%d.example:1883 node-x.example:1883", i+1))
	}
	if !slices.Equal(refs, want) {
		t.Errorf("Server References %q, want %q (one pick each)", refs, want)
	}
	// At 20 a second the five are 200ms apart at least from first to
	// last; half of that allows for the first one's delivery being late.
	if span, min := last.Sub(first), (devices-1)*time.Second/perSecond/2; span < min {
		t.Errorf("%d devices sent away within %s; at %d/s it takes %s at least", devices, span, perSecond, min)
	}
	if got := s.Responder.Stats().DrainDisconnects; got != devices {
		t.Errorf("DrainDisconnects = %d, want %d", got, devices)
	}
}

// TestDrainWithoutPeer: with nowhere to send them, devices are told the
// server shuts down, without a reference.
func TestDrainWithoutPeer(t *testing.T) {
	s := mustServe(t)
	c := s.MustDial(t, appliance.Options{})
	if err := s.Responder.Drain(testContext(t, 10*time.Second), responder.DrainOptions{Refer: func(context.Context) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	if code, ref, _ := ended(t, c); code != 0x8B || ref != "" {
		t.Fatalf("DISCONNECT 0x%02x reference %q, want 0x8B and none", code, ref)
	}
}
