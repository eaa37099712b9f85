package cluster_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// clock is a time the test moves by hand, so that liveness bounds pass
// without sleeping, while every read and write still goes to Redis.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// startNode starts node id on env with the clock and a heartbeat of an
// hour, so that only the test's explicit beats (restarts) write.
func startNode(t *testing.T, env *redistest.Env, clk *clock, id string, devices int) *cluster.Node {
	t.Helper()
	return startNodeOn(t, env, env.RDB, clk, id, devices)
}

// startNodeOn is startNode with a Redis client of the node's own.
func startNodeOn(t *testing.T, env *redistest.Env, rdb redis.UniversalClient, clk *clock, id string, devices int) *cluster.Node {
	t.Helper()
	n, err := cluster.New(rdb, cluster.Options{
		ID: id, Addr: id + ":1883", Version: "v1.2.3", Devices: func() int { return devices },
		KeyPrefix: env.Prefix, Heartbeat: time.Hour, DeadAfter: 3 * time.Hour, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

func mustNodes(t *testing.T, r interface {
	Nodes(context.Context) ([]recipes.Node, error)
}) []recipes.Node {
	t.Helper()
	nodes, err := r.Nodes(context.Background())
	if err != nil {
		t.Fatalf("Nodes: %v", err)
	}
	return nodes
}

// summary is "id alive devices" of each node, in order.
func summary(nodes []recipes.Node) string {
	var b strings.Builder
	for _, n := range nodes {
		alive := "dead"
		if n.Alive {
			alive = "alive"
		}
		b.WriteString(n.ID + " " + alive + " " + strconv.Itoa(n.Devices) + ";")
	}
	return b.String()
}

func TestNodesRegisterAndList(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 2)
	startNode(t, env, clk, "node-c", 0)
	startNode(t, env, clk, "node-b", 5)

	nodes := mustNodes(t, a)
	if got, want := summary(nodes), "node-a alive 2;node-b alive 5;node-c alive 0;"; got != want {
		t.Fatalf("nodes = %s, want %s", got, want)
	}
	n := nodes[0]
	if n.Addr != "node-a:1883" || n.Version != "v1.2.3" || n.Draining || !n.StartedAt.Equal(clk.Now()) || !n.LastHeartbeat.Equal(clk.Now()) {
		t.Errorf("node-a = %+v", n)
	}
	// The CLI reads through a Registry of its own.
	if got := summary(mustNodes(t, cluster.NewRegistry(env.RDB, env.Prefix, 0, clk.Now))); got != summary(nodes) {
		t.Errorf("registry lists %s, node lists %s", got, summary(nodes))
	}
}

func TestNodeThatStopsHeartbeatingIsDeadThenForgotten(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	a := startNode(t, env, clk, "node-a", 1)
	// node-b crashes: its entry stays, nothing deletes it, no key expires.
	b, err := cluster.New(env.RDB, cluster.Options{ID: "node-b", KeyPrefix: env.Prefix, Heartbeat: time.Hour, DeadAfter: 3 * time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })

	clk.Add(3 * time.Hour) // exactly the bound: still alive
	if got, want := summary(mustNodes(t, a)), "node-a alive 1;node-b alive 0;"; got != want {
		t.Fatalf("at the bound: %s, want %s", got, want)
	}
	// node-a beats again (a restart is its only beat with this heartbeat);
	// node-b does not.
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	a2 := startNode(t, env, clk, "node-a", 1)
	clk.Add(time.Second)
	if got, want := summary(mustNodes(t, a2)), "node-a alive 1;node-b dead 0;"; got != want {
		t.Fatalf("past the bound: %s, want %s", got, want)
	}
	clk.Add(3 * time.Hour) // twice the bound: forgotten, and deleted from Redis
	if got, want := summary(mustNodes(t, a2)), "node-a dead 1;"; got != want {
		t.Fatalf("past twice the bound: %s, want %s", got, want)
	}
	if ok, err := env.RDB.HExists(context.Background(), "{"+env.Prefix+"}:nodes", "node-b").Result(); err != nil || ok {
		t.Fatalf("node-b's entry still in Redis (%v, %v)", ok, err)
	}
}

func TestNodeCloseRemovesItsEntry(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Now()}
	a := startNode(t, env, clk, "node-a", 0)
	b := startNode(t, env, clk, "node-b", 0)
	if err := b.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if got, want := summary(mustNodes(t, a)), "node-a alive 0;"; got != want {
		t.Fatalf("after node-b closed: %s, want %s", got, want)
	}
}

func TestNodeHeartbeats(t *testing.T) {
	env := redistest.New(t)
	var mu sync.Mutex
	devices := 0
	n, err := cluster.New(env.RDB, cluster.Options{ID: "node-a", KeyPrefix: env.Prefix, Heartbeat: 10 * time.Millisecond, DeadAfter: time.Second,
		Devices: func() int { mu.Lock(); defer mu.Unlock(); return devices }})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	mu.Lock()
	devices = 7
	mu.Unlock()
	// The loop must report the new count on its own.
	deadline := time.Now().Add(5 * time.Second)
	for summary(mustNodes(t, n)) != "node-a alive 7;" {
		if time.Now().After(deadline) {
			t.Fatalf("heartbeat never reported 7 devices: %s", summary(mustNodes(t, n)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	env := redistest.New(t)
	for _, tc := range []struct {
		name string
		opts cluster.Options
		want string
	}{
		{"no id", cluster.Options{}, "node ID is empty"},
		{"bound below 3 heartbeats", cluster.Options{ID: "a", Heartbeat: time.Second, DeadAfter: 2 * time.Second}, "at least 3 heartbeats"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := cluster.New(env.RDB, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestNodeStartFailsWithoutRedis: a node that cannot register says so,
// and its Close neither blocks nor touches the registry.
func TestNodeStartFailsWithoutRedis(t *testing.T) {
	env := redistest.New(t)
	if env.MR == nil {
		t.Skip("needs miniredis to stop Redis")
	}
	n, err := cluster.New(env.RDB, cluster.Options{ID: "node-a", KeyPrefix: env.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	env.MR.Close()
	if err := n.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "cluster: read node entry") {
		t.Fatalf("start without Redis: %v", err)
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatalf("close after a failed start: %v", err)
	}
}

// TestNodesReportsCorruptEntry: an entry that is not a node is named in
// the error, and the good ones are still listed.
func TestNodesReportsCorruptEntry(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Now()}
	a := startNode(t, env, clk, "node-a", 0)
	if err := env.RDB.HSet(context.Background(), "{"+env.Prefix+"}:nodes", "node-x", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	nodes, err := a.Nodes(context.Background())
	if err == nil || !strings.Contains(err.Error(), `cluster: node "node-x": entry in {`+env.Prefix+`}:nodes is not a node`) {
		t.Fatalf("err = %v", err)
	}
	if summary(nodes) != "node-a alive 0;" {
		t.Fatalf("nodes = %s", summary(nodes))
	}
}

// TestNodeIDTwin: a second live process with a node's ID is refused, and
// leaves the first one's entry alone; a process whose predecessor crashed
// and left a fresh entry takes the ID over.
func TestNodeIDTwin(t *testing.T) {
	env := redistest.New(t)
	start := func(id string) (*cluster.Node, error) {
		n, err := cluster.New(env.RDB, cluster.Options{ID: id, Addr: id + ":1883", KeyPrefix: env.Prefix, Heartbeat: 20 * time.Millisecond, DeadAfter: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close(context.Background()) })
		return n, n.Start(context.Background())
	}
	a, err := start("node-a")
	if err != nil {
		t.Fatal(err)
	}
	twin, err := start("node-a")
	if err == nil || !strings.Contains(err.Error(), `node ID "node-a" is in use by a live node (MQTT address node-a:1883`) {
		t.Fatalf("twin start: %v", err)
	}
	if err := twin.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := summary(mustNodes(t, a)); got != "node-a alive 0;" {
		t.Fatalf("after the twin: %s", got)
	}

	// node-b crashes: its last entry stays, fresh but never renewed.
	b, err := start("node-b")
	if err != nil {
		t.Fatal(err)
	}
	key := "{" + env.Prefix + "}:nodes"
	last, err := env.RDB.HGet(context.Background(), key, "node-b").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := env.RDB.HSet(context.Background(), key, "node-b", last).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := start("node-b"); err != nil {
		t.Fatalf("restart after a crash: %v", err)
	}
}
