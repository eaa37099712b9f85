package cluster_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
	got := make(chan struct{}, 10)
	a := startBusNode(t, env, clk, "node-a", func(n *cluster.Node) { n.HandleDrainRequests(func() { got <- struct{}{} }) })
	startNode(t, env, clk, "node-b", 0)
	ctx := context.Background()

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

// startBusNode starts node id, as startNode does, with a bus; handle
// registers its handlers before the bus listens.
func startBusNode(t *testing.T, env *redistest.Env, clk *clock, id string, handle func(*cluster.Node)) *cluster.Node {
	t.Helper()
	bus := cluster.NewBus(env.RDB, cluster.BusOptions{Node: id, KeyPrefix: env.Prefix})
	n, err := cluster.New(env.RDB, cluster.Options{
		ID: id, Addr: id + ":1883", KeyPrefix: env.Prefix, Heartbeat: time.Hour, DeadAfter: 3 * time.Hour, Now: clk.Now, Bus: bus,
	})
	if err != nil {
		t.Fatal(err)
	}
	handle(n)
	ctx := context.Background()
	if err := bus.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Close() })
	if err := n.Start(ctx); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	t.Cleanup(func() { _ = n.Close(ctx) })
	return n
}

// TestRequestDrainReceipt: the asker gets the node's receipt, which says
// whether it had been asked before; a node alive in the registry that
// does not listen is named as such at once, rather than taken for asked.
func TestRequestDrainReceipt(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Now()}
	drains := make(chan struct{}, 10)
	startBusNode(t, env, clk, "node-a", func(n *cluster.Node) { n.HandleDrainRequests(func() { drains <- struct{}{} }) })
	startNode(t, env, clk, "node-b", 0) // registered, but no bus
	cli := cluster.NewBus(env.RDB, cluster.BusOptions{Node: "cli-1", KeyPrefix: env.Prefix})
	ctx := context.Background()
	if err := cli.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	reg := cluster.NewRegistry(env.RDB, env.Prefix, 0, clk.Now)

	for i, want := range []cluster.DrainReceipt{{Node: "node-a"}, {Node: "node-a", Already: true}} {
		got, err := reg.RequestDrain(ctx, cli, "node-a")
		if err != nil || got != want {
			t.Fatalf("request %d: %+v %v, want %+v", i, got, err, want)
		}
		select {
		case <-drains:
		case <-time.After(5 * time.Second):
			t.Fatalf("request %d: node-a did not drain after its receipt", i)
		}
	}
	_, err := reg.RequestDrain(ctx, cli, "node-b")
	if !errors.Is(err, cluster.ErrNotListening) || recipes.ErrorCode(err) != recipes.ECONFLICT ||
		!strings.HasPrefix(recipes.ErrorMessage(err), `Node "node-b" is registered alive but does not listen`) {
		t.Fatalf("node without a bus: %v", err)
	}
}

// TestNodeChannelOneSubscriber: a node's bus is the one subscriber of its
// channel, whatever listens on it (commands, takeovers, drain requests).
func TestNodeChannelOneSubscriber(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Now()}
	var bus *cluster.Bus
	startBusNode(t, env, clk, "node-a", func(n *cluster.Node) {
		n.HandleDrainRequests(func() {})
		n.HandleTakeovers(func(string, uint64) {}, func() {})
	})
	bus = cluster.NewBus(env.RDB, cluster.BusOptions{Node: "node-a", KeyPrefix: env.Prefix})
	channel := bus.Channel("node-a")
	ctx := context.Background()
	var subs map[string]int64
	var err error
	if cc, ok := env.RDB.(*redis.ClusterClient); ok {
		// Each master counts the shard channels of its own slots.
		var mu sync.Mutex
		subs = map[string]int64{}
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			n, err := c.PubSubShardNumSub(ctx, channel).Result()
			mu.Lock()
			defer mu.Unlock()
			subs[channel] += n[channel]
			return err
		})
	} else {
		subs, err = env.RDB.PubSubNumSub(ctx, channel).Result()
	}
	if err != nil || subs[channel] != 1 {
		t.Fatalf("subscribers of %s: %v %v, want 1", channel, subs, err)
	}
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
