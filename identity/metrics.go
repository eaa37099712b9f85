package identity

import "github.com/prometheus/client_golang/prometheus"

// MetricConflicts is the name of the counter [Store.Collector] exports.
const MetricConflicts = "recipesd_identity_write_conflicts_total"

// collector exports the registry's counters, read at scrape time.
type collector struct {
	s         *Store
	conflicts *prometheus.Desc
}

// Collector returns a [prometheus.Collector] of the registry's counters:
// device, staff, session and token writes retried because a concurrent
// write changed what they read.
func (s *Store) Collector() prometheus.Collector {
	return &collector{s: s, conflicts: prometheus.NewDesc(MetricConflicts,
		"Device, staff and API token writes retried because a concurrent write changed what they read.", nil, nil)}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.conflicts }

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.conflicts, prometheus.CounterValue, float64(c.s.edge.Conflicts()))
}
