package admin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/recipesd/recipesd/recipes"
)

// TestStatsOf reads the dashboard's numbers back from a registry holding
// metrics under the names the responder exports: per-bucket counts from
// cumulative buckets, labels into maps, the open bucket last.
func TestStatsOf(t *testing.T) {
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: metricRequests})
	requests.Add(7)
	replies := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricReplies}, []string{"status"})
	replies.WithLabelValues("200").Add(5)
	replies.WithLabelValues("404").Add(2)
	replies.WithLabelValues("bogus").Add(1) // not a status: left out
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricDropped}, []string{"reason"})
	dropped.WithLabelValues("expired").Add(3)
	connected := prometheus.NewGauge(prometheus.GaugeOpts{Name: metricConnected})
	connected.Set(4)
	latency := prometheus.NewHistogram(prometheus.HistogramOpts{Name: metricReplyLatency, Buckets: []float64{0.001, 0.01}})
	for _, v := range []float64{0.0005, 0.0005, 0.005, 1} {
		latency.Observe(v)
	}
	calls := prometheus.NewCounterVec(prometheus.CounterOpts{Name: metricCalls}, []string{"outcome"})
	calls.WithLabelValues("answered").Add(1)
	reg.MustRegister(requests, replies, dropped, connected, latency, calls)

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := statsOf(families)
	want := stats{
		Requests:  7,
		Replies:   map[int]int64{200: 5, 404: 2},
		Dropped:   map[string]int64{"expired": 3},
		Connected: 4,
		Latency: []recipes.LatencyBucket{
			{Le: time.Millisecond, Count: 2}, {Le: 10 * time.Millisecond, Count: 1}, {Le: 0, Count: 1},
		},
		P50:   time.Millisecond,
		P99:   20 * time.Millisecond,
		Calls: map[string]int64{"answered": 1},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("statsOf (-want +got):\n%s", d)
	}
}
