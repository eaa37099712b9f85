package admin

import (
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/recipesd/recipesd/recipes"
)

// stats is what the dashboard shows of the responder's counters, read
// back from the metrics registry (see [Options.Metrics]) so that the
// dashboard and /metrics never disagree.
type stats struct {
	Requests  int64                   // requests received
	Dropped   map[string]int64        // requests not answered, by reason
	Replies   map[int]int64           // replies sent, by status
	P50, P99  time.Duration           // reply latency quantiles since start
	Latency   []recipes.LatencyBucket // reply latency histogram
	Connected int                     // appliances connected now

	// Commands to appliances (POST /api/devices/:id/rpc).
	Calls          map[string]int64        // calls by outcome
	CallsPending   int                     // calls waiting for an answer now
	AnswersDropped int64                   // late, duplicated or forged answers
	CallLatency    []recipes.LatencyBucket // answered calls by call-to-answer time

	// Commands routed between nodes (cluster mode); nil maps when this
	// process exports no such counters.
	RoutedOut     map[string]int64        // sent to the node holding the device, by outcome
	RoutedIn      map[string]int64        // received from other nodes, by outcome
	RoutedLatency []recipes.LatencyBucket // sent ones, by time to their outcome
}

// The metric names the dashboard reads; the responder exports them
// (admin does not import it: ARCHITECTURE.md).
const (
	metricRequests       = "recipesd_requests_total"
	metricDropped        = "recipesd_requests_dropped_total"
	metricReplies        = "recipesd_replies_total"
	metricReplyLatency   = "recipesd_reply_latency_seconds"
	metricConnected      = "recipesd_connected_appliances"
	metricCalls          = "recipesd_rpc_calls_total"
	metricCallsPending   = "recipesd_rpc_calls_pending"
	metricAnswersDropped = "recipesd_rpc_answers_dropped_total"
	metricCallLatency    = "recipesd_rpc_call_latency_seconds"
	// cluster exports these; its names are checked against these in
	// the dashboard's test.
	metricRoutedOut     = "recipesd_rpc_routed_total"
	metricRoutedIn      = "recipesd_rpc_routed_in_total"
	metricRoutedLatency = "recipesd_rpc_routed_latency_seconds"
)

// readStats gathers the registry and picks the dashboard's numbers out of
// it. A collector that fails is logged; the others still count.
func (s *Server) readStats() stats {
	families, err := s.opts.Metrics.Gather()
	if err != nil {
		s.log.Warn("gather metrics for the dashboard", "err", err)
	}
	return statsOf(families)
}

// statsOf picks the dashboard's numbers out of gathered metric families.
func statsOf(families []*dto.MetricFamily) stats {
	st := stats{Dropped: map[string]int64{}, Replies: map[int]int64{}, Calls: map[string]int64{}}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			switch f.GetName() {
			case metricRequests:
				st.Requests = int64(m.GetCounter().GetValue())
			case metricDropped:
				st.Dropped[label(m, "reason")] = int64(m.GetCounter().GetValue())
			case metricReplies:
				if code, err := strconv.Atoi(label(m, "status")); err == nil {
					st.Replies[code] = int64(m.GetCounter().GetValue())
				}
			case metricReplyLatency:
				st.Latency = buckets(m.GetHistogram())
			case metricConnected:
				st.Connected = int(m.GetGauge().GetValue())
			case metricCalls:
				st.Calls[label(m, "outcome")] = int64(m.GetCounter().GetValue())
			case metricCallsPending:
				st.CallsPending = int(m.GetGauge().GetValue())
			case metricAnswersDropped:
				st.AnswersDropped = int64(m.GetCounter().GetValue())
			case metricCallLatency:
				st.CallLatency = buckets(m.GetHistogram())
			case metricRoutedOut:
				st.RoutedOut = countInto(st.RoutedOut, m)
			case metricRoutedIn:
				st.RoutedIn = countInto(st.RoutedIn, m)
			case metricRoutedLatency:
				st.RoutedLatency = buckets(m.GetHistogram())
			}
		}
	}
	st.P50, st.P99 = recipes.Quantile(st.Latency, 0.5), recipes.Quantile(st.Latency, 0.99)
	return st
}

// countInto adds m's count under its outcome label to counts, made if nil.
func countInto(counts map[string]int64, m *dto.Metric) map[string]int64 {
	if counts == nil {
		counts = map[string]int64{}
	}
	counts[label(m, "outcome")] = int64(m.GetCounter().GetValue())
	return counts
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// buckets turns a Prometheus histogram's cumulative buckets back into
// per-bucket counts, the last one (Le 0) above all bounds.
func buckets(h *dto.Histogram) []recipes.LatencyBucket {
	var out []recipes.LatencyBucket
	var below uint64
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue
		}
		out = append(out, recipes.LatencyBucket{
			Le:    time.Duration(math.Round(b.GetUpperBound() * float64(time.Second))),
			Count: int64(b.GetCumulativeCount() - below),
		})
		below = b.GetCumulativeCount()
	}
	out = append(out, recipes.LatencyBucket{Count: int64(h.GetSampleCount() - below)})
	return out
}

// sample is Stats at one moment.
type sample struct {
	At time.Time
	stats
}

// history keeps the last samples in a ring.
type history struct {
	mu      sync.Mutex
	samples []sample
	max     int
}

func newHistory(max int) *history { return &history{max: max + 1} }

func (h *history) add(s sample) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.samples) == h.max {
		h.samples = slices.Delete(h.samples, 0, 1)
	}
	h.samples = append(h.samples, s)
}

func (h *history) all() []sample {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.samples)
}

// sample records the stats every SampleEvery until the server closes.
func (s *Server) sample() {
	defer s.bg.Done()
	t := time.NewTicker(s.opts.SampleEvery)
	defer t.Stop()
	s.hist.add(sample{At: time.Now(), stats: s.readStats()})
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.hist.add(sample{At: now, stats: s.readStats()})
		}
	}
}

// delta returns the histogram of the replies between a and b.
func delta(a, b []recipes.LatencyBucket) []recipes.LatencyBucket {
	out := slices.Clone(b)
	for i := range out {
		if i < len(a) {
			out[i].Count -= a[i].Count
		}
	}
	return out
}

// requireMetricsReader lets through API tokens with the metrics scope (a
// Prometheus scraper) and signed-in staff. The counters tell an outsider
// the fleet's size and traffic, so they are not public.
func (s *Server) requireMetricsReader(next echo.HandlerFunc) echo.HandlerFunc {
	withToken := s.requireToken(requireScope(recipes.ScopeMetrics)(next))
	return func(c echo.Context) error {
		if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
			return withToken(c)
		}
		sess, _, err := s.session(c)
		switch {
		case recipes.ErrorCode(err) == recipes.ENOTFOUND:
			return echo.NewHTTPError(http.StatusUnauthorized,
				"Sign in, or send an API token with the metrics scope: Authorization: Bearer <token>.").SetInternal(errNoToken)
		case err != nil:
			return err
		}
		c.Set(staffKey, sess.Staff)
		return next(c)
	}
}

// metricsHandler serves the registry in the Prometheus exposition format
// (text, or OpenMetrics when the scraper asks for it).
func (s *Server) metricsHandler() echo.HandlerFunc {
	if s.opts.Metrics == nil {
		return func(c echo.Context) error {
			return echo.NewHTTPError(http.StatusNotFound, "This server exports no metrics.")
		}
	}
	h := promhttp.HandlerFor(s.opts.Metrics, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		// A failing collector must not hide all the others.
		ErrorHandling:     promhttp.ContinueOnError,
		EnableOpenMetrics: true,
	})
	return echo.WrapHandler(h)
}
