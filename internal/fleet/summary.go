package fleet

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Summary is what a run measured, as "appliance bench -json" prints it.
// Connect figures cover every connect, warm-up included (a reconnect
// storm is over before any warm-up ends); request figures cover the
// requests sent in the measured window, after the warm-up; the
// exactly-once accounting (missing, duplicate, stray, late) covers every
// request of the run.
type Summary struct {
	Devices   int      `json:"devices"`
	Active    int      `json:"active"`
	Servers   []string `json:"servers"`
	Processes int      `json:"processes"`
	WindowS   float64  `json:"window_s"` // the measured window, in seconds

	Connect     ConnectSummary    `json:"connect"`
	Requests    RequestSummary    `json:"requests"`
	Disconnects DisconnectSummary `json:"disconnects"`
	Commands    CommandSummary    `json:"commands"`
	Generator   GeneratorSummary  `json:"generator"`
}

// CommandSummary counts the commands (RRPC, PROTOCOL.md §4) the devices
// received and answered.
type CommandSummary struct {
	Received uint64 `json:"received"`
	Answered uint64 `json:"answered"`
}

// ConnectSummary is how the devices connected.
type ConnectSummary struct {
	Attempted int `json:"attempted"`
	Connected int `json:"connected"`
	// Refused counts CONNACKs with a failure reason code, by code
	// ("0x89"): an answer, if a negative one.
	Refused map[string]int `json:"refused"`
	// Failed counts connects that got no CONNACK (or no SUBACK), by why:
	// "dial", "dropped" (the socket closed before the CONNACK), "timeout",
	// "suback 0x87".
	Failed map[string]int `json:"failed"`
	// AllConnectedS is the time from the first dial to the last device
	// connected and subscribed, in seconds.
	AllConnectedS float64    `json:"all_connected_s"`
	PerSecond     float64    `json:"per_second"`
	Latency       Latency    `json:"connack_latency"` // dial to CONNACK, of the connects that succeeded
	Histogram     *Histogram `json:"connack_histogram"`
}

// RequestSummary is how the requests were answered.
type RequestSummary struct {
	Sent     uint64 `json:"sent"`     // in the measured window
	Answered uint64 `json:"answered"` // of those sent in the window
	// SentAll counts every request of the run, warm-up included: the
	// exactly-once accounting is over these.
	SentAll uint64 `json:"sent_all"`
	// Skipped counts the request times an active device let pass because
	// it already had -inflight requests (or the server's Receive Maximum)
	// outstanding.
	Skipped   uint64     `json:"skipped"`
	PerSecond float64    `json:"round_trips_per_second"`
	Latency   Latency    `json:"latency"`
	Histogram *Histogram `json:"latency_histogram"`
	// Statuses counts the replies to requests of the window by status.
	Statuses map[string]uint64      `json:"statuses"`
	Kinds    map[string]KindSummary `json:"kinds"`
	Puback   map[string]uint64      `json:"puback_refused"` // PUBACKs with a failure reason code, by code
	Errors   map[string]uint64      `json:"errors"`         // sends that failed, by why
	Exactly  ExactlyOnce            `json:"exactly_once"`
}

// ExactlyOnce is the accounting of every request's reply: each request
// carries unique correlation data.
type ExactlyOnce struct {
	// Missing counts requests never answered by the end of the run.
	Missing uint64 `json:"missing"`
	// Duplicate counts replies for a request already answered.
	Duplicate uint64 `json:"duplicate"`
	// Stray counts replies whose correlation data names no request this
	// device sent.
	Stray uint64 `json:"stray"`
	// Late counts replies that came after -timeout (they are answered,
	// not missing, and their latency is in the histogram).
	Late uint64 `json:"late"`
}

// KindSummary is what one kind of request (categories, list, get,
// search, conditional, notfound) got in the measured window.
type KindSummary struct {
	Sent     uint64            `json:"sent"`
	Statuses map[string]uint64 `json:"statuses"`
}

// DisconnectSummary is how connections ended before the run ended them.
type DisconnectSummary struct {
	// Server counts DISCONNECTs from the server, by reason code ("0x8e").
	Server map[string]int `json:"server"`
	// Dropped counts connections that closed without a DISCONNECT.
	Dropped int `json:"dropped"`
}

// Latency is a histogram's percentiles, in milliseconds.
type Latency struct {
	P50  float64 `json:"p50_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

func latencyOf(h *Histogram) Latency {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Latency{P50: ms(h.Quantile(0.50)), P99: ms(h.Quantile(0.99)), P999: ms(h.Quantile(0.999)), Max: ms(h.Max())}
}

// Hex formats a reason code as summaries key it.
func Hex(code byte) string { return fmt.Sprintf("0x%02x", code) }

// Merge adds the summary of another process's shard of the fleet to s
// and recomputes the derived figures.
func (s *Summary) Merge(o *Summary) {
	s.Devices += o.Devices
	s.Active += o.Active
	s.Processes += o.Processes
	s.WindowS = max(s.WindowS, o.WindowS)
	if len(s.Servers) == 0 {
		s.Servers = o.Servers
	}
	c, oc := &s.Connect, &o.Connect
	c.Attempted += oc.Attempted
	c.Connected += oc.Connected
	c.Refused = addMap(c.Refused, oc.Refused)
	c.Failed = addMap(c.Failed, oc.Failed)
	c.AllConnectedS = max(c.AllConnectedS, oc.AllConnectedS)
	c.Histogram = mergeHist(c.Histogram, oc.Histogram)

	r, or := &s.Requests, &o.Requests
	r.Sent += or.Sent
	r.Answered += or.Answered
	r.SentAll += or.SentAll
	r.Skipped += or.Skipped
	r.Histogram = mergeHist(r.Histogram, or.Histogram)
	r.Statuses = addMap(r.Statuses, or.Statuses)
	r.Puback = addMap(r.Puback, or.Puback)
	r.Errors = addMap(r.Errors, or.Errors)
	if r.Kinds == nil {
		r.Kinds = map[string]KindSummary{}
	}
	for k, v := range or.Kinds {
		mine := r.Kinds[k]
		mine.Sent += v.Sent
		mine.Statuses = addMap(mine.Statuses, v.Statuses)
		r.Kinds[k] = mine
	}
	r.Exactly.Missing += or.Exactly.Missing
	r.Exactly.Duplicate += or.Exactly.Duplicate
	r.Exactly.Stray += or.Exactly.Stray
	r.Exactly.Late += or.Exactly.Late

	d, od := &s.Disconnects, &o.Disconnects
	d.Server = addMap(d.Server, od.Server)
	d.Dropped += od.Dropped

	s.Commands.Received += o.Commands.Received
	s.Commands.Answered += o.Commands.Answered

	g, og := &s.Generator, &o.Generator
	g.RSSBytes += og.RSSBytes
	g.GoHeapBytes += og.GoHeapBytes
	g.GoStackBytes += og.GoStackBytes
	g.Goroutines += og.Goroutines
	s.derive()
}

// derive computes the rates and percentiles from the counts.
func (s *Summary) derive() {
	c := &s.Connect
	if c.Histogram == nil {
		c.Histogram = &Histogram{}
	}
	c.Latency = latencyOf(c.Histogram)
	c.PerSecond = 0
	if c.AllConnectedS > 0 {
		c.PerSecond = float64(c.Connected) / c.AllConnectedS
	}
	s.Generator.perDevice(c.Connected)
	r := &s.Requests
	if r.Histogram == nil {
		r.Histogram = &Histogram{}
	}
	r.Latency = latencyOf(r.Histogram)
	r.PerSecond = 0
	if s.WindowS > 0 {
		r.PerSecond = float64(r.Answered) / s.WindowS
	}
}

func addMap[V int | uint64](a, b map[string]V) map[string]V {
	if a == nil {
		a = map[string]V{}
	}
	for k, v := range b {
		a[k] += v
	}
	return a
}

func mergeHist(a, b *Histogram) *Histogram {
	if a == nil {
		a = &Histogram{}
	}
	if b != nil {
		a.Merge(b)
	}
	return a
}

// counter is a map of counts safe for concurrent use, for the rare
// events (refusals, drops) that need no lock-free path.
type counter struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (c *counter) add(k string) {
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]uint64{}
	}
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

func toInt(m map[string]uint64) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = int(v)
	}
	return out
}

// kindCounter counts one kind's requests and their statuses without a
// lock: statuses are three-digit numbers.
type kindCounter struct {
	sent     atomic.Uint64
	statuses [600]atomic.Uint64
}

func (k *kindCounter) summary() KindSummary {
	ks := KindSummary{Sent: k.sent.Load(), Statuses: map[string]uint64{}}
	for st := range k.statuses {
		if n := k.statuses[st].Load(); n > 0 {
			ks.Statuses[strconv.Itoa(st)] = n
		}
	}
	return ks
}

// sortedKeys is for printing maps in a stable order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
