package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// TestSetDrainingShowsAtOnce: the mark is in the registry when
// SetDraining returns, not at the next heartbeat (an hour away here).
func TestSetDrainingShowsAtOnce(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	startNode(t, env, clk, "node-b", 0)
	if err := a.SetDraining(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	nodes := mustNodes(t, a)
	if len(nodes) != 2 || !nodes[0].Draining || nodes[1].Draining || !a.Draining() {
		t.Fatalf("after SetDraining(true) on node-a: %+v", nodes)
	}
}

func TestRequestDrain(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 0)
	startNode(t, env, clk, "node-b", 0)
	ctx := context.Background()

	got := make(chan struct{}, 10)
	wctx, cancel := context.WithCancel(ctx)
	wait, err := a.WatchDrainRequests(wctx, func() { got <- struct{}{} })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); wait() })

	t.Run("OK", func(t *testing.T) {
		// Other kinds on the node's channel belong to others: ignored.
		channel := "{" + env.Prefix + "}:node:node-a"
		for _, other := range []string{`{"kind":"command"}`, `not json`} {
			if err := env.RDB.Publish(ctx, channel, other).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.RequestDrain(ctx, "node-a"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-got:
		case <-time.After(5 * time.Second):
			t.Fatal("drain request not received")
		}
		select {
		case <-got:
			t.Fatal("a message of another kind was taken for a drain request")
		case <-time.After(50 * time.Millisecond):
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		err := a.RequestDrain(ctx, "node-x")
		if recipes.ErrorCode(err) != recipes.ENOTFOUND || recipes.ErrorMessage(err) != `Node "node-x" is not registered (registered: node-a, node-b).` {
			t.Fatalf("unknown node: %v", err)
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		clk.Add(3*time.Hour + time.Second) // past the bound: both dead
		err := a.RequestDrain(ctx, "node-b")
		if recipes.ErrorCode(err) != recipes.ECONFLICT || !strings.HasPrefix(recipes.ErrorMessage(err), `Node "node-b" is dead: its last heartbeat was 3h0m1s ago`) {
			t.Fatalf("dead node: %v", err)
		}
	})
}

// TestPeersPickLeastLoaded: referrals go to the least-loaded live peer
// that does not drain, never to the drainer itself, and spread over the
// peers as they are made.
func TestPeersPickLeastLoaded(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	self := startNode(t, env, clk, "node-a", 0) // least loaded, but it drains
	startNode(t, env, clk, "node-b", 5)
	startNode(t, env, clk, "node-c", 3)
	d := startNode(t, env, clk, "node-d", 1)
	ctx := context.Background()
	if err := d.SetDraining(ctx, true); err != nil {
		t.Fatal(err)
	}
	p := self.Peers("node-a", time.Hour)
	var picks []string
	for range 6 {
		addr, err := p.Pick(ctx)
		if err != nil {
			t.Fatal(err)
		}
		picks = append(picks, addr)
	}
	// c has 3, b 5: c takes two to reach 5, then they alternate (ties go
	// to the first by ID).
	if got, want := strings.Join(picks, " "), "node-c:1883 node-c:1883 node-b:1883 node-c:1883 node-b:1883 node-c:1883"; got != want {
		t.Fatalf("picks %s, want %s", got, want)
	}

	// With no peer left, nobody is picked.
	clk.Add(3*time.Hour + time.Second)
	none := cluster.NewRegistry(env.RDB, env.Prefix, 0, clk.Now).Peers("node-a", 0)
	if addr, err := none.Pick(ctx); addr != "" || err != nil {
		t.Fatalf("every peer dead: picked %q, %v", addr, err)
	}
}
