package admin

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Stats is a snapshot of the responder's counters since it started, as
// the dashboard and /metrics show them. cmd fills it from the responder.
type Stats struct {
	Requests   int64            // requests received
	Dropped    map[string]int64 // requests not answered, by reason
	Replies    map[int]int64    // replies sent, by status
	P50, P99   time.Duration    // reply latency quantiles since start
	Latency    []LatencyBucket  // reply latency histogram
	LatencySum time.Duration    // total request-to-reply time of all replies
	Connected  int              // appliances connected now

	// Commands to appliances (POST /api/devices/:id/rpc).
	Calls          map[string]int64 // calls by outcome
	CallsPending   int              // calls waiting for an answer now
	AnswersDropped int64            // late, duplicated or forged answers
	CallLatency    []LatencyBucket  // answered calls by call-to-answer time
	CallLatencySum time.Duration
}

// LatencyBucket counts the replies that took at most Le and more than the
// previous bucket's Le. Le 0 marks the last bucket: longer than all others.
type LatencyBucket struct {
	Le    time.Duration
	Count int64
}

// sample is Stats at one moment.
type sample struct {
	At time.Time
	Stats
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
	s.hist.add(sample{At: time.Now(), Stats: s.opts.Stats()})
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			s.hist.add(sample{At: now, Stats: s.opts.Stats()})
		}
	}
}

// quantile estimates the q-quantile of the replies counted in buckets as
// the upper bound of the bucket it falls in; the open last bucket counts
// as twice the largest bound.
func quantile(buckets []LatencyBucket, q float64) time.Duration {
	var total int64
	for _, b := range buckets {
		total += b.Count
	}
	if total == 0 {
		return 0
	}
	rank := max(int64(q*float64(total)+0.5), 1)
	var seen int64
	for i, b := range buckets {
		seen += b.Count
		if seen >= rank {
			if b.Le == 0 && i > 0 {
				return 2 * buckets[i-1].Le
			}
			return b.Le
		}
	}
	return 0
}

// delta returns the histogram of the replies between a and b.
func delta(a, b []LatencyBucket) []LatencyBucket {
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
		sess, err := s.session(c)
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

// handleMetrics serves the counters in the Prometheus text format.
func (s *Server) handleMetrics(c echo.Context) error {
	var b strings.Builder
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	if s.opts.Stats != nil {
		st := s.opts.Stats()
		metric("recipesd_requests_total", "counter", "MQTT requests received by the responder.")
		fmt.Fprintf(&b, "recipesd_requests_total %d\n", st.Requests)
		metric("recipesd_requests_dropped_total", "counter", "Requests not answered, by reason.")
		for _, r := range slices.Sorted(maps.Keys(st.Dropped)) {
			fmt.Fprintf(&b, "recipesd_requests_dropped_total{reason=%q} %d\n", r, st.Dropped[r])
		}
		metric("recipesd_replies_total", "counter", "Replies sent to appliances, by status.")
		for _, code := range slices.Sorted(maps.Keys(st.Replies)) {
			fmt.Fprintf(&b, "recipesd_replies_total{status=\"%d\"} %d\n", code, st.Replies[code])
		}
		metric("recipesd_reply_latency_seconds", "histogram", "Time from request to reply.")
		histogram(&b, "recipesd_reply_latency_seconds", st.Latency, st.LatencySum)
		metric("recipesd_connected_appliances", "gauge", "Appliances connected now.")
		fmt.Fprintf(&b, "recipesd_connected_appliances %d\n", st.Connected)
		metric("recipesd_rpc_calls_total", "counter", "Commands to appliances, by outcome.")
		for _, o := range slices.Sorted(maps.Keys(st.Calls)) {
			fmt.Fprintf(&b, "recipesd_rpc_calls_total{outcome=%q} %d\n", o, st.Calls[o])
		}
		metric("recipesd_rpc_calls_pending", "gauge", "Commands waiting for the appliance's answer.")
		fmt.Fprintf(&b, "recipesd_rpc_calls_pending %d\n", st.CallsPending)
		metric("recipesd_rpc_answers_dropped_total", "counter", "Late, duplicated or forged answers to commands.")
		fmt.Fprintf(&b, "recipesd_rpc_answers_dropped_total %d\n", st.AnswersDropped)
		metric("recipesd_rpc_call_latency_seconds", "histogram", "Time from command to answer.")
		histogram(&b, "recipesd_rpc_call_latency_seconds", st.CallLatency, st.CallLatencySum)
	}
	metric("recipesd_catalog_up", "gauge", "Whether the catalog store answers (1) or not (0).")
	up := 1
	if err := s.store.Ping(c.Request().Context()); err != nil {
		up = 0
	}
	fmt.Fprintf(&b, "recipesd_catalog_up %d\n", up)
	return c.Blob(http.StatusOK, "text/plain; version=0.0.4; charset=utf-8", []byte(b.String()))
}

// histogram writes the buckets, sum and count of a Prometheus histogram.
func histogram(b *strings.Builder, name string, buckets []LatencyBucket, sum time.Duration) {
	var cum int64
	for _, bk := range buckets {
		cum += bk.Count
		le := "+Inf"
		if bk.Le > 0 {
			le = strconv.FormatFloat(bk.Le.Seconds(), 'g', -1, 64)
		}
		fmt.Fprintf(b, "%s_bucket{le=%q} %d\n", name, le, cum)
	}
	if n := len(buckets); n == 0 || buckets[n-1].Le != 0 {
		fmt.Fprintf(b, "%s_bucket{le=\"+Inf\"} %d\n", name, cum)
	}
	fmt.Fprintf(b, "%s_sum %g\n", name, sum.Seconds())
	fmt.Fprintf(b, "%s_count %d\n", name, cum)
}
