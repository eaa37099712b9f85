package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
)

// TestTakeoverRaces: one device ID connects to two nodes at the same
// moment, 100 times over every pair of nodes; each time exactly one
// session survives, the other is ended (DISCONNECT 0x8E, or closed), and
// every node names the survivor's node (issue 12 item 3: fenced by an
// epoch, not by timing).
func TestTakeoverRaces(t *testing.T) {
	v := envOrSkip(t, "RECIPESD_E2E_BIN", "RECIPESD_E2E_REDIS_CLUSTER")
	f := startFleet(t, v[0], v[1], 3)
	const rounds = 100
	id := "race-oven"
	f.register(t, id)
	reasons := map[string]int{}
	for r := range rounds {
		a, b := f.nodes[r%3], f.nodes[(r+1)%3]
		if r%2 == 1 {
			a, b = b, a
		}
		cs := race(t, f, id, a, b)
		// The loser is told within 1 s (item 3); allow 2 for a busy machine.
		var alive []int
		deadline := time.Now().Add(2 * time.Second)
		for {
			alive = alive[:0]
			for i, c := range cs {
				if c != nil && !closed(c) {
					alive = append(alive, i)
				}
			}
			if len(alive) <= 1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if len(alive) != 1 {
			closeAll(cs)
			t.Fatalf("round %d (%s vs %s): %d sessions alive after 2 s, want exactly 1", r, a.id, b.id, len(alive))
		}
		// Stays so: the survivor is not ended by a late notice.
		time.Sleep(100 * time.Millisecond)
		win := cs[alive[0]]
		if closed(win) {
			t.Fatalf("round %d: the surviving session was ended after the race (reason %v)", r, reason(win))
		}
		winNode := []*node{a, b}[alive[0]]
		if lose := cs[1-alive[0]]; lose != nil {
			reasons[reason(lose)]++
		} else {
			reasons["refused"]++
		}
		if err := f.presenceAgrees(id, 2*time.Second, connectedOn(winNode.id)); err != nil {
			closeAll(cs)
			t.Fatalf("round %d: the session on %s survived, but presence: %v", r, winNode.id, err)
		}
		_ = win.Close()
		// The next race starts from an offline device.
		if err := f.presenceAgrees(id, 2*time.Second, offline); err != nil {
			t.Fatalf("round %d: after the survivor disconnected: %v", r, err)
		}
	}
	t.Logf("%d races, the losers: %v", rounds, reasons)
	if n := reasons["DISCONNECT 0x8e"]; n == 0 {
		t.Errorf("no loser got DISCONNECT 0x8E (session taken over): %v", reasons)
	}
}

// race connects id to nodes a and b at the same moment; a connection
// refused at CONNECT is nil.
func race(t *testing.T, f *fleet, id string, a, b *node) []*appliance.Client {
	t.Helper()
	cs := make([]*appliance.Client, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, nd := range []*node{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			<-start
			cs[i], errs[i] = f.dial(ctx, nd.mqtt, id)
		}()
	}
	close(start)
	wg.Wait()
	if errs[0] != nil && errs[1] != nil {
		t.Fatalf("both CONNECTs failed: %v; %v", errs[0], errs[1])
	}
	for i := range cs {
		if errs[i] != nil {
			cs[i] = nil // its CONNECT lost: counts as ended
		}
	}
	return cs
}

func closed(c *appliance.Client) bool {
	select {
	case <-c.Done():
		return true
	default:
		return false
	}
}

func reason(c *appliance.Client) string {
	if !closed(c) {
		return "alive"
	}
	select { // why it ended is known a moment after it did
	case <-c.Ended():
	case <-time.After(2 * time.Second):
	}
	if d := c.ServerDisconnect(); d != nil {
		return fmt.Sprintf("DISCONNECT 0x%02x", d.ReasonCode)
	}
	return "closed without DISCONNECT"
}

func closeAll(cs []*appliance.Client) {
	for _, c := range cs {
		if c != nil && !closed(c) {
			_ = c.Close()
		}
	}
}
