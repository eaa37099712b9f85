package responder

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names the responder exports. The admin dashboard reads some of
// them back from the same registry, so they are its contract too.
const (
	MetricRequests       = "recipesd_requests_total"
	MetricDropped        = "recipesd_requests_dropped_total"
	MetricReplies        = "recipesd_replies_total"
	MetricReplyLatency   = "recipesd_reply_latency_seconds"
	MetricConnected      = "recipesd_connected_appliances"
	MetricSessions       = "recipesd_device_sessions"
	MetricConnRefused    = "recipesd_mqtt_connects_refused_total"
	MetricConnThrottled  = "recipesd_mqtt_connects_throttled_total"
	MetricSocketsRefused = "recipesd_mqtt_sockets_refused_total"
	MetricDisconnects    = "recipesd_mqtt_disconnects_total"
	MetricPanics         = "recipesd_mqtt_recovered_panics_total"
	MetricCalls          = "recipesd_rpc_calls_total"
	MetricCallsPending   = "recipesd_rpc_calls_pending"
	MetricAnswersDropped = "recipesd_rpc_answers_dropped_total"
	MetricCallLatency    = "recipesd_rpc_call_latency_seconds"
)

// collector exports the responder's counters. It reads the atomic
// counters at scrape time, so the request path pays nothing for metrics.
type collector struct {
	r *Responder

	requests, dropped, replies, replyLatency, connected, sessions   *prometheus.Desc
	connRefused, connThrottled, socketsRefused, disconnects, panics *prometheus.Desc
	calls, callsPending, answersDropped, callLatency                *prometheus.Desc
}

// Collector returns a [prometheus.Collector] of every counter in [Stats].
// Register it once per registry.
func (r *Responder) Collector() prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &collector{
		r:            r,
		requests:     d(MetricRequests, "MQTT requests received by the responder."),
		dropped:      d(MetricDropped, "Requests not answered (or answered but not delivered), by reason: no_response_topic, refused (Response Topic not the sender's), expired, undeliverable.", "reason"),
		replies:      d(MetricReplies, "Replies sent to appliances, by status.", "status"),
		replyLatency: d(MetricReplyLatency, "Time from request to reply."),
		connected:    d(MetricConnected, "Appliances connected now."),
		sessions:     d(MetricSessions, "Device sessions the broker knows, online or not."),
		connRefused: d(MetricConnRefused,
			"CONNECTs refused: bad client ID, unknown device, wrong secret, store down or throttled."),
		connThrottled: d(MetricConnThrottled,
			"CONNECTs refused with 0x9F because their source failed to authenticate too often (also in "+MetricConnRefused+")."),
		socketsRefused: d(MetricSocketsRefused,
			"Sockets closed at once because their source held too many unauthenticated connections."),
		disconnects: d(MetricDisconnects,
			"Connections the server ended, by reason: malformed_packet, rate_limited (0x96), publish_refused (0x87), outbox_full (0x97), write_failed.", "reason"),
		panics: d(MetricPanics, "Connection goroutines that panicked and were recovered; should stay 0."),
		calls:  d(MetricCalls, "Commands to appliances, by outcome.", "outcome"),
		callsPending: d(MetricCallsPending,
			"Commands waiting for the appliance's answer."),
		answersDropped: d(MetricAnswersDropped, "Late, duplicated or forged answers to commands."),
		callLatency:    d(MetricCallLatency, "Time from command to answer, of answered commands."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.requests, c.dropped, c.replies, c.replyLatency, c.connected, c.sessions,
		c.connRefused, c.connThrottled, c.socketsRefused, c.disconnects, c.panics,
		c.calls, c.callsPending, c.answersDropped, c.callLatency,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	st := c.r.Stats()
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	counter(c.requests, st.Requests)
	counter(c.dropped, st.NoResponseTopic, "no_response_topic")
	counter(c.dropped, st.Refused, "refused")
	counter(c.dropped, st.Expired, "expired")
	counter(c.dropped, st.Undeliverable, "undeliverable")
	// Every status and outcome, zeros too: a series that appears only
	// after its first event breaks rate() over the window before it.
	for _, code := range replyStatuses {
		counter(c.replies, st.Replies[code], strconv.Itoa(code))
	}
	ch <- histogram(c.replyLatency, st.Latency, st.LatencyTotal.Seconds())
	gauge(c.connected, st.Connected)
	gauge(c.sessions, st.Devices)

	counter(c.connRefused, st.AuthRefused)
	counter(c.connThrottled, st.ConnectThrottled)
	counter(c.socketsRefused, st.SocketsRefused)
	counter(c.disconnects, st.Malformed, "malformed_packet")
	counter(c.disconnects, st.RateDisconnects, "rate_limited")
	counter(c.disconnects, st.RefusalDisconnects, "publish_refused")
	counter(c.disconnects, st.StalledDisconnects, "outbox_full")
	counter(c.disconnects, st.DrainDisconnects, "drained")
	counter(c.disconnects, st.WriteFailures, "write_failed")
	counter(c.panics, st.Recovered)

	for _, o := range callOutcomes {
		counter(c.calls, st.Calls[o], o)
	}
	gauge(c.callsPending, st.CallsPending)
	counter(c.answersDropped, st.AnswersDropped)
	ch <- histogram(c.callLatency, st.CallLatency, st.CallLatencyTotal.Seconds())
}

// histogram turns per-bucket counts (bucketed by [LatencyBuckets], the
// last element above all bounds) into a Prometheus histogram, whose
// buckets are cumulative.
func histogram(d *prometheus.Desc, counts []int64, sum float64) prometheus.Metric {
	buckets := make(map[float64]uint64, len(LatencyBuckets))
	var total uint64
	for i, n := range counts {
		total += uint64(n)
		if i < len(LatencyBuckets) {
			buckets[LatencyBuckets[i].Seconds()] = total
		}
	}
	return prometheus.MustNewConstHistogram(d, total, sum, buckets)
}
