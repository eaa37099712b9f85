package admin_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// ovenOnNode is the appliance connected to one node: Call counts the
// commands, answers the first and is busy for the others. It stands where
// a node's responder stands (cluster.Local).
type ovenOnNode struct{ n atomic.Int64 }

func (o *ovenOnNode) Connected(id string) bool { return id == "oven-1" }

func (o *ovenOnNode) Call(context.Context, string, string, json.RawMessage, time.Duration) (cluster.Answer, error) {
	if o.n.Add(1) == 1 {
		return cluster.Answer{Status: 200, Body: json.RawMessage(`{"locked":true}`)}, nil
	}
	return cluster.Answer{}, recipes.ErrCallBusy
}

// noDevices is a node with no appliance connected.
type noDevices struct{}

func (noDevices) Connected(string) bool { return false }

func (noDevices) Call(context.Context, string, string, json.RawMessage, time.Duration) (cluster.Answer, error) {
	return cluster.Answer{}, recipes.ErrCallOffline
}

// TestDashboardRoutedCommands: the dashboard's Cluster card shows the
// commands this node routed to other nodes and received from them, from
// the cluster's own counters (the names /metrics exports), with the ones
// not answered by outcome and the routed latency.
func TestDashboardRoutedCommands(t *testing.T) {
	env := redistest.New(t)
	ctx := context.Background()
	node := func(id string, local cluster.Local) *cluster.Commands {
		n, err := cluster.New(env.RDB, cluster.Options{ID: id, Addr: id + ".example:1883", KeyPrefix: env.Prefix,
			Heartbeat: time.Hour, DeadAfter: 3 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close(ctx) })
		bus := cluster.NewBus(env.RDB, cluster.BusOptions{Node: id, KeyPrefix: env.Prefix})
		c := cluster.NewCommands(env.RDB, local, cluster.CommandOptions{Node: id, Bus: bus, Presence: n, KeyPrefix: env.Prefix})
		if err := bus.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = bus.Close() })
		if id == "node-b" {
			if _, _, err := n.Claim(ctx, "oven-1"); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	a := node("node-a", noDevices{})
	b := node("node-b", &ovenOnNode{})
	dashboard := func(id string, c *cluster.Commands) string {
		reg := prometheus.NewRegistry()
		reg.MustRegister(c.Collector())
		s := MustStartServer(t, func(o *admin.Options) {
			o.Metrics, o.NodeID, o.Nodes = reg, id, cluster.NewRegistry(env.RDB, env.Prefix, 0, nil)
		})
		return s.MustSignIn(t).Get("/dashboard").Want(200).Text()
	}

	if got := dashboard("node-a", a); !regexp.MustCompile(`Sent to other nodes 0 Received from other nodes 0 .*p50 –, p99 –`).MatchString(got) {
		t.Fatalf("before any command, the dashboard of node-a says:\n%s", got)
	}
	for _, want := range []error{nil, recipes.ErrCallBusy} {
		_, err := a.Call(ctx, cluster.Command{Device: "oven-1", Method: "lid.lock", Timeout: 5 * time.Second})
		if (want == nil && err != nil) || (want != nil && !errors.Is(err, want)) {
			t.Fatalf("command through node-a: %v, want %v", err, want)
		}
	}

	tests := []struct {
		node string
		c    *cluster.Commands
		want string
	}{
		{"node-a", a, `Commands routed between nodes, since start \(this node\) Sent to other nodes 2 \(not answered: busy 1\) ` +
			`Received from other nodes 0 Sent ones had their outcome in p50 [0-9.]+ (µs|ms|s), p99 [0-9.]+ (µs|ms|s),`},
		{"node-b", b, `Sent to other nodes 0 Received from other nodes 2 \(not answered: busy 1\) Sent ones had their outcome in p50 –, p99 –`},
	}
	for _, tt := range tests {
		if got := dashboard(tt.node, tt.c); !regexp.MustCompile(tt.want).MatchString(got) {
			t.Errorf("the dashboard of %s lacks %q:\n%s", tt.node, tt.want, got)
		}
	}
}
