package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// statsMetric says where a field of responder.Stats shows in /metrics.
type statsMetric struct {
	family string
	labels map[string]string // which series of the family, for a plain number
	key    string            // for a map field: the label its keys are in
}

// statsMetrics lists every field of responder.Stats. A field added to the
// struct and not here fails TestMetricsExportEveryCounter: export it, then
// list it.
var statsMetrics = map[string]statsMetric{
	"Requests":        {family: "recipesd_requests_total"},
	"NoResponseTopic": {family: "recipesd_requests_dropped_total", labels: map[string]string{"reason": "no_response_topic"}},
	"Refused":         {family: "recipesd_requests_dropped_total", labels: map[string]string{"reason": "refused"}},
	"Expired":         {family: "recipesd_requests_dropped_total", labels: map[string]string{"reason": "expired"}},
	"Undeliverable":   {family: "recipesd_requests_dropped_total", labels: map[string]string{"reason": "undeliverable"}},
	"Replies":         {family: "recipesd_replies_total", key: "status"},
	"LatencyTotal":    {family: "recipesd_reply_latency_seconds"},
	"Latency":         {family: "recipesd_reply_latency_seconds"},
	"Devices":         {family: "recipesd_device_sessions"},
	"Connected":       {family: "recipesd_connected_appliances"},

	"AuthRefused":        {family: "recipesd_mqtt_connects_refused_total"},
	"ConnectThrottled":   {family: "recipesd_mqtt_connects_throttled_total"},
	"SocketsRefused":     {family: "recipesd_mqtt_sockets_refused_total"},
	"Malformed":          {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "malformed_packet"}},
	"RateDisconnects":    {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "rate_limited"}},
	"RefusalDisconnects": {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "publish_refused"}},
	"StalledDisconnects": {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "outbox_full"}},
	"DrainDisconnects":   {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "drained"}},
	"WriteFailures":      {family: "recipesd_mqtt_disconnects_total", labels: map[string]string{"reason": "write_failed"}},
	"Recovered":          {family: "recipesd_mqtt_recovered_panics_total"},

	"Calls":            {family: "recipesd_rpc_calls_total", key: "outcome"},
	"CallsPending":     {family: "recipesd_rpc_calls_pending"},
	"AnswersDropped":   {family: "recipesd_rpc_answers_dropped_total"},
	"CallLatency":      {family: "recipesd_rpc_call_latency_seconds"},
	"CallLatencyTotal": {family: "recipesd_rpc_call_latency_seconds"},
}

// TestMetricsExportEveryCounter scrapes /metrics as Prometheus would and
// checks that every counter of the responder is there with the value the
// responder reports, next to the Go runtime's and the process's.
func TestMetricsExportEveryCounter(t *testing.T) {
	s := MustRunMain(t)
	if r := s.MustAsk(t, "recipes/categories"); r.Status != 200 {
		t.Fatal(r)
	}
	s.MustAsk(t, "recipes/no-such-category")
	eventually(t, "both replies counted", func() bool { return s.Responder.Stats().Replies[404] == 1 })

	token, err := s.Identity.CreateAPIToken(context.Background(), randomName("scraper"), "test", []string{recipes.ScopeMetrics})
	if err != nil {
		t.Fatal(err)
	}
	before := s.Responder.Stats()
	families := scrapeMetrics(t, s.HTTPURL, token)
	after := s.Responder.Stats()

	sv, av := reflect.ValueOf(after), reflect.ValueOf(before)
	for i := range sv.NumField() {
		field := sv.Type().Field(i)
		want, ok := statsMetrics[field.Name]
		if !ok {
			t.Errorf("responder.Stats.%s is not in statsMetrics: export it in responder/metrics.go and list it here", field.Name)
			continue
		}
		t.Run(field.Name, func(t *testing.T) {
			f := families[want.family]
			if f == nil {
				t.Fatalf("/metrics lacks %s", want.family)
			}
			v := sv.Field(i)
			// A value that moved while we scraped cannot be compared.
			stable := reflect.DeepEqual(v.Interface(), av.Field(i).Interface())
			switch {
			case f.GetType() == dto.MetricType_HISTOGRAM:
				h := f.GetMetric()[0].GetHistogram()
				switch x := v.Interface().(type) {
				case time.Duration:
					if got := h.GetSampleSum(); stable && math.Abs(got-x.Seconds()) > 1e-9 {
						t.Errorf("%s_sum = %g, want %g", want.family, got, x.Seconds())
					}
				case []int64:
					var n uint64
					for _, c := range x {
						n += uint64(c)
					}
					if got := h.GetSampleCount(); stable && got != n {
						t.Errorf("%s_count = %d, want %d", want.family, got, n)
					}
					if len(h.GetBucket()) != len(responder.LatencyBuckets)+1 { // and +Inf
						t.Errorf("%s has %d buckets, want %d", want.family, len(h.GetBucket()), len(responder.LatencyBuckets)+1)
					}
				default:
					t.Fatalf("%s is a histogram, but Stats.%s is a %T", want.family, field.Name, x)
				}
			case want.key != "":
				if v.Kind() != reflect.Map {
					t.Fatalf("Stats.%s is not a map", field.Name)
				}
				if len(f.GetMetric()) == 0 {
					t.Errorf("%s has no series", want.family)
				}
				for _, k := range v.MapKeys() {
					m := series(f, map[string]string{want.key: fmt.Sprint(k.Interface())})
					if m == nil {
						t.Errorf("%s lacks %s=%v", want.family, want.key, k)
					} else if got, w := value(m), float64(v.MapIndex(k).Int()); stable && got != w {
						t.Errorf("%s{%s=%v} = %g, want %g", want.family, want.key, k, got, w)
					}
				}
			default:
				m := series(f, want.labels)
				if m == nil {
					t.Fatalf("%s lacks the series %v", want.family, want.labels)
				}
				if got, w := value(m), float64(v.Int()); stable && got != w {
					t.Errorf("%s%v = %g, want %g (Stats.%s)", want.family, want.labels, got, w, field.Name)
				}
			}
		})
	}
	if got := value(series(families["recipesd_requests_total"], nil)); got != 2 {
		t.Errorf("recipesd_requests_total = %g, want 2", got)
	}
	if got := value(series(families["recipesd_replies_total"], map[string]string{"status": "404"})); got != 1 {
		t.Errorf(`recipesd_replies_total{status="404"} = %g, want 1`, got)
	}

	// Prometheus' naming conventions: counters end in _total, histograms
	// are in seconds.
	for name, f := range families {
		switch {
		case !strings.HasPrefix(name, "recipesd_"):
		case f.GetType() == dto.MetricType_COUNTER && !strings.HasSuffix(name, "_total"):
			t.Errorf("counter %s does not end in _total", name)
		case f.GetType() == dto.MetricType_HISTOGRAM && !strings.HasSuffix(name, "_seconds"):
			t.Errorf("histogram %s does not end in _seconds", name)
		}
	}
	for _, name := range []string{
		"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes",
		"recipesd_catalog_up", "recipesd_catalog_write_conflicts_total", "recipesd_identity_write_conflicts_total",
		"recipesd_rpc_routed_total", "recipesd_rpc_routed_in_total", "recipesd_rpc_routed_latency_seconds",
	} {
		if families[name] == nil {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	if got := value(series(families["recipesd_catalog_up"], nil)); got != 1 {
		t.Errorf("recipesd_catalog_up = %g, want 1", got)
	}
}

// scrapeMetrics GETs /metrics with an API token and parses the text
// exposition format.
func scrapeMetrics(t *testing.T, base, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// series returns f's series with exactly these labels, or nil.
func series(f *dto.MetricFamily, labels map[string]string) *dto.Metric {
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			if labels[l.GetName()] != l.GetValue() {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// value is a counter's or a gauge's value.
func value(m *dto.Metric) float64 {
	switch {
	case m == nil:
		return math.NaN()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	return math.NaN()
}
