package cluster_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/redistest"
)

func TestCollectorTellsTheCluster(t *testing.T) {
	env := redistest.New(t)
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	// node-a has a Redis client of its own, closed below to show a node
	// that has lost Redis; env's stays open for the test's cleanup.
	own, err := redisconn.New(env.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	a := startNodeOn(t, env, own, clk, "node-a", 2)
	startNode(t, env, clk, "node-b", 5)
	clk.Add(3*time.Hour + time.Second) // both dead: their hour-long heartbeats never came
	startNode(t, env, clk, "node-c", 7)

	want := `
# HELP recipesd_cluster_node_devices Devices connected to each live node, as of its last heartbeat.
# TYPE recipesd_cluster_node_devices gauge
recipesd_cluster_node_devices{node="node-c"} 7
# HELP recipesd_cluster_nodes Nodes in the registry by state: alive (draining or not), draining, dead.
# TYPE recipesd_cluster_nodes gauge
recipesd_cluster_nodes{state="alive"} 1
recipesd_cluster_nodes{state="dead"} 2
recipesd_cluster_nodes{state="draining"} 0
# HELP recipesd_cluster_registry_up 1 if this node could read the node registry at this scrape, else 0.
# TYPE recipesd_cluster_registry_up gauge
recipesd_cluster_registry_up 1
# HELP recipesd_node_info This recipesd node: always 1, labelled with its ID, version and advertised MQTT address.
# TYPE recipesd_node_info gauge
recipesd_node_info{mqtt_addr="node-a:1883",node="node-a",version="v1.2.3"} 1
`
	if err := testutil.CollectAndCompare(a.Collector(), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}

	// Without Redis the node still says who it is, and that it cannot
	// see the cluster.
	_ = own.Close()
	want = `
# HELP recipesd_cluster_registry_up 1 if this node could read the node registry at this scrape, else 0.
# TYPE recipesd_cluster_registry_up gauge
recipesd_cluster_registry_up 0
`
	if err := testutil.CollectAndCompare(a.Collector(), strings.NewReader(want), cluster.MetricRegistryUp); err != nil {
		t.Fatal(err)
	}
}
