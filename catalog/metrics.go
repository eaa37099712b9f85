package catalog

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names the catalog exports.
const (
	MetricUp        = "recipesd_catalog_up"
	MetricConflicts = "recipesd_catalog_write_conflicts_total"
)

// collector exports the catalog's health and counters, read at scrape
// time.
type collector struct {
	s             *Store
	up, conflicts *prometheus.Desc
}

// Collector returns a [prometheus.Collector] of the catalog's counters and
// of whether the store answers. Each scrape pings the store once, bounded
// by [Options.Timeout] like every other store call.
func (s *Store) Collector() prometheus.Collector {
	return &collector{
		s:  s,
		up: prometheus.NewDesc(MetricUp, "Whether the catalog store answers and takes writes (1) or not (0).", nil, nil),
		conflicts: prometheus.NewDesc(MetricConflicts,
			"Catalog writes retried because a concurrent write changed what they read.", nil, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.conflicts
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	up := 1.0
	// A scrape carries no context; Ping bounds itself by the store timeout.
	if err := c.s.Ping(context.Background()); err != nil {
		up = 0
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.conflicts, prometheus.CounterValue, float64(c.s.edge.Conflicts()))
}
