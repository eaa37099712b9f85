package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
)

func TestPresenceClaimLookupRelease(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	b := startNode(t, env, clk, "node-b", 0)
	ctx := context.Background()

	first, prev, err := a.Claim(ctx, "oven-1")
	if err != nil {
		t.Fatal(err)
	}
	if first.Node != "node-a" || first.Epoch != 1 || !first.Since.Equal(clk.Now()) || prev.Node != "" {
		t.Fatalf("first claim: now %+v prev %+v, want node-a epoch 1 since now, no previous holder", first, prev)
	}
	clk.Add(time.Second)
	second, prev, err := b.Claim(ctx, "oven-1")
	if err != nil {
		t.Fatal(err)
	}
	if second.Node != "node-b" || second.Epoch != 2 || prev.Node != "node-a" || prev.Epoch != 1 || !prev.Since.Equal(first.Since) {
		t.Fatalf("takeover claim: now %+v prev %+v, want node-b epoch 2 taking over node-a epoch 1", second, prev)
	}

	// The old session ending must not clear the new one's claim.
	if ok, err := a.Release(ctx, "oven-1", first.Epoch); err != nil || ok {
		t.Fatalf("release of the older session: %v, %v; want false (a newer one holds the device)", ok, err)
	}
	got, err := a.Lookup(ctx, "oven-1", "fridge-9")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["oven-1"] != second {
		t.Fatalf("Lookup = %+v, want only oven-1 held by %+v", got, second)
	}

	if ok, err := b.Release(ctx, "oven-1", second.Epoch); err != nil || !ok {
		t.Fatalf("release by the holder: %v, %v; want true", ok, err)
	}
	if got, err := b.Lookup(ctx, "oven-1"); err != nil || len(got) != 0 {
		t.Fatalf("Lookup after release = %+v, %v; want not connected", got, err)
	}
	// The epoch survives the release: the next session is newer still.
	third, prev, err := a.Claim(ctx, "oven-1")
	if err != nil || third.Epoch != 3 || prev.Node != "" {
		t.Fatalf("claim after release: %+v prev %+v, %v; want epoch 3, no previous holder", third, prev, err)
	}
}

func TestPresenceEndsWithItsNode(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	b := startNode(t, env, clk, "node-b", 0)
	ctx := context.Background()
	if _, _, err := a.Claim(ctx, "oven-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Lookup(ctx, "oven-1"); err != nil || got["oven-1"].Node != "node-a" {
		t.Fatalf("Lookup = %+v, %v; want oven-1 on node-a", got, err)
	}
	// node-a stops heartbeating (its hour-long heartbeat never comes) and
	// is dead after its bound of 3 hours: its device is no longer
	// connected, though its presence key still names it.
	clk.Add(3*time.Hour + time.Second)
	if got, err := b.Lookup(ctx, "oven-1"); err != nil || len(got) != 0 {
		t.Fatalf("Lookup after node-a died = %+v, %v; want not connected", got, err)
	}
}

// TestPresenceClaimRace: claims racing from many nodes each get their own
// epoch, so exactly one of them is the newest.
func TestPresenceClaimRace(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	b := startNode(t, env, clk, "node-b", 0)
	const n = 50
	epochs := make(chan uint64, 2*n)
	var wg sync.WaitGroup
	for range n {
		for _, node := range []*cluster.Node{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				h, _, err := node.Claim(context.Background(), "oven-1")
				if err != nil {
					t.Error(err)
					return
				}
				epochs <- h.Epoch
			}()
		}
	}
	wg.Wait()
	close(epochs)
	seen := map[uint64]bool{}
	for e := range epochs {
		if seen[e] {
			t.Fatalf("epoch %d handed out twice", e)
		}
		seen[e] = true
	}
	for e := uint64(1); e <= 2*n; e++ {
		if !seen[e] {
			t.Fatalf("epochs = %v, want each of 1..%d once", seen, 2*n)
		}
	}
}

// TestPresenceReleaseAll: many releases in one round trip, each as exact
// as Release: a device a newer session holds keeps its holder. Run twice,
// the first time on a Redis that has not seen the script (NOSCRIPT).
func TestPresenceReleaseAll(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	b := startNode(t, env, clk, "node-b", 0)
	ctx := context.Background()
	for round := range 2 {
		if round == 0 {
			if err := env.RDB.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
		}
		sessions := map[string]uint64{}
		for _, id := range []string{"oven-1", "oven-2", "oven-3"} {
			h, _, err := a.Claim(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			sessions[id] = h.Epoch
		}
		newer, _, err := b.Claim(ctx, "oven-3")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.ReleaseAll(ctx, sessions); err != nil {
			t.Fatalf("round %d: ReleaseAll: %v", round, err)
		}
		got, err := a.Lookup(ctx, "oven-1", "oven-2", "oven-3")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got["oven-3"] != newer {
			t.Fatalf("round %d: after ReleaseAll, Lookup = %+v; want only oven-3, held by %+v", round, got, newer)
		}
		if _, err := b.Release(ctx, "oven-3", newer.Epoch); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPresenceAbandonedClaimReleased: a claim whose connection stopped
// waiting (its context ended) but that Redis made anyway is released, or
// the device would be shown connected with no session.
func TestPresenceAbandonedClaimReleased(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()
	for i := 0; ; i++ {
		id := fmt.Sprintf("oven-%d", i)
		if h, _, err := a.Claim(gone, id); err == nil {
			// The answer came before the claimer saw its context end.
			if _, err := a.Release(ctx, id, h.Epoch); err != nil {
				t.Fatal(err)
			}
			continue
		}
		// A release that failed (a loaded -race run) is retried after
		// up to 5 s (release.go): wait past that.
		deadline := time.Now().Add(12 * time.Second)
		for {
			epochs, err := a.Epochs(ctx, []string{id})
			if err != nil {
				t.Fatal(err)
			}
			held, err := a.Lookup(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if epochs[id] == 1 && len(held) == 0 {
				return // claimed, then released
			}
			if time.Now().After(deadline) {
				t.Fatalf("abandoned claim of %s: epoch %d, holders %+v; want it made and released", id, epochs[id], held)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
