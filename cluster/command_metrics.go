package cluster

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/recipesd/recipesd/recipes"
)

// Metric names of routed commands.
const (
	MetricCommandsRouted   = "recipesd_rpc_routed_total"
	MetricCommandsReceived = "recipesd_rpc_routed_in_total"
	MetricRoutedLatency    = "recipesd_rpc_routed_latency_seconds"
)

// commandOutcomes are the outcomes routed commands are counted by: the
// call's, "canceled" when its caller left, and "error" for a failure of
// Redis or of the other node.
var commandOutcomes = []string{"answered", recipes.CallOffline, recipes.CallTimeout, recipes.CallGone, "canceled",
	recipes.CallBadAnswer, recipes.CallBusy, recipes.CallTooLarge, "error"}

// outcome names err as a command outcome.
func outcome(err error) string {
	if err == nil {
		return "answered"
	}
	switch code := recipes.CallErrorCode(err); code {
	case "", recipes.CallKeyReused, recipes.CallTooManyKeys:
	default:
		return code
	}
	if isCanceled(err) {
		return "canceled"
	}
	return "error"
}

// commandStats counts routed commands.
type commandStats struct {
	routedN, receivedN *prometheus.CounterVec
	latency            prometheus.Histogram
}

func newCommandStats() commandStats {
	s := commandStats{
		routedN: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricCommandsRouted,
			Help: "Commands this node sent to the node holding the device, by outcome."}, []string{"outcome"}),
		receivedN: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricCommandsReceived,
			Help: "Commands other nodes sent to this node for a device connected here, by outcome."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: MetricRoutedLatency,
			Help:    "Time from sending a command to another node to its outcome, of routed commands.",
			Buckets: []float64{.001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
	}
	for _, o := range commandOutcomes { // every series from the start
		s.routedN.WithLabelValues(o)
		s.receivedN.WithLabelValues(o)
	}
	return s
}

func (s commandStats) routed(outcome string, d time.Duration) {
	s.routedN.WithLabelValues(outcome).Inc()
	s.latency.Observe(d.Seconds())
}

func (s commandStats) received(outcome string) { s.receivedN.WithLabelValues(outcome).Inc() }

// Collector returns a [prometheus.Collector] of the routed commands'
// counters and latency. Register it once per registry.
func (c *Commands) Collector() prometheus.Collector {
	return collectors{c.stats.routedN, c.stats.receivedN, c.stats.latency}
}

type collectors []prometheus.Collector

func (cs collectors) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range cs {
		c.Describe(ch)
	}
}

func (cs collectors) Collect(ch chan<- prometheus.Metric) {
	for _, c := range cs {
		c.Collect(ch)
	}
}
