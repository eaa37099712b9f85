package cluster

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of [Node.Collector].
const (
	MetricNodeInfo    = "recipesd_node_info"
	MetricNodes       = "recipesd_cluster_nodes"
	MetricNodeDevices = "recipesd_cluster_node_devices"
	MetricRegistryUp  = "recipesd_cluster_registry_up"
)

// collector exports the cluster as this node sees it in the registry,
// read at scrape time: every node's /metrics then tells the whole
// cluster's story, and a node that cannot read the registry says so.
type collector struct {
	n                          *Node
	info, nodes, devices, upDs *prometheus.Desc
}

// Collector returns a [prometheus.Collector] of this node's identity
// (recipesd_node_info, labelled with its ID, version and address) and of
// the registry: nodes by state, devices connected per live node (as of
// its last heartbeat), and whether the registry could be read.
func (n *Node) Collector() prometheus.Collector {
	return &collector{
		n: n,
		info: prometheus.NewDesc(MetricNodeInfo, "This recipesd node: always 1, labelled with its ID, version and advertised MQTT address.",
			[]string{"node", "version", "mqtt_addr"}, nil),
		nodes: prometheus.NewDesc(MetricNodes, "Nodes in the registry by state: alive (draining or not), draining, dead.",
			[]string{"state"}, nil),
		devices: prometheus.NewDesc(MetricNodeDevices, "Devices connected to each live node, as of its last heartbeat.",
			[]string{"node"}, nil),
		upDs: prometheus.NewDesc(MetricRegistryUp, "1 if this node could read the node registry at this scrape, else 0.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.info
	ch <- c.nodes
	ch <- c.devices
	ch <- c.upDs
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	o := c.n.opts
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, o.ID, o.Version, o.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nodes, err := c.n.Nodes(ctx)
	up := 1.0
	if err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.upDs, prometheus.GaugeValue, up)
	if nodes == nil {
		return
	}
	var alive, draining, dead float64
	for _, n := range nodes {
		switch {
		case !n.Alive:
			dead++
			continue
		case n.Draining:
			draining++
		}
		alive++
		ch <- prometheus.MustNewConstMetric(c.devices, prometheus.GaugeValue, float64(n.Devices), n.ID)
	}
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, alive, "alive")
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, draining, "draining")
	ch <- prometheus.MustNewConstMetric(c.nodes, prometheus.GaugeValue, dead, "dead")
}
