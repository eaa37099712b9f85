package responder

import (
	"sync/atomic"
	"time"

	"github.com/recipesd/recipesd/responder/session"
)

// LatencyBuckets are the upper bounds of the reply latency histogram.
var LatencyBuckets = []time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second,
}

// Stats are the responder's counters since start.
type Stats struct {
	Requests        int64         // requests handed to the responder
	NoResponseTopic int64         // dropped: no Response Topic to answer on
	Refused         int64         // refused: Response Topic not the sender's
	Expired         int64         // not answered: the request expired first
	Undeliverable   int64         // answered, but the device cannot take the reply
	Replies         map[int]int64 // replies by status
	LatencyTotal    time.Duration // summed request-to-reply time of all replies

	// Latency counts replies by request-to-reply time: Latency[i] counts
	// those up to LatencyBuckets[i], the last element those above all.
	Latency []int64

	Devices   int // device sessions known (online or not)
	Connected int // devices connected now

	AuthRefused int64 // CONNECTs refused: bad ID, unknown device, wrong secret, store down, throttled
	// ConnectThrottled counts CONNECTs answered 0x9F because their source
	// failed to authenticate too often (also in AuthRefused), and
	// SocketsRefused sockets closed at once because their source held too
	// many unauthenticated ones (Options.ConnectFailures and
	// MaxUnauthenticated).
	ConnectThrottled int64
	SocketsRefused   int64
	Malformed        int64 // connections closed for a packet that failed the checks
	RateDisconnects  int64 // devices disconnected (0x96) for ignoring 429s
	Recovered        int64 // connection goroutines that panicked; should stay 0

	RefusalDisconnects int64 // devices disconnected (0x87) for publishing where they may not
	StalledDisconnects int64 // devices disconnected (0x97) with a full outbox
	DrainDisconnects   int64 // devices sent away by a drain (0x9C, or 0x8B with no other server)
	WriteFailures      int64 // connections ended by a failed or timed-out write

	// Commands to devices (PROTOCOL.md §4).
	Calls          map[string]int64 // calls by outcome: answered, offline, timeout, …
	CallsPending   int              // calls waiting for their answer now
	AnswersDropped int64            // late, duplicated or forged answers
	// CallLatency counts answered calls by call-to-answer time, bucketed
	// like Latency.
	CallLatency      []int64
	CallLatencyTotal time.Duration // summed call-to-answer time of answered calls
}

// Stats returns the responder's counters.
func (r *Responder) Stats() Stats {
	st := r.stats.snapshot(r.devices)
	st.CallsPending = r.calls.count()
	st.ConnectThrottled, st.SocketsRefused = r.throttle.Counts()
	return st
}

type stats struct {
	requests        atomic.Int64
	noResponseTopic atomic.Int64
	refused         atomic.Int64
	expired         atomic.Int64
	undeliverable   atomic.Int64
	latency         atomic.Int64
	connected       atomic.Int64
	authRefused     atomic.Int64
	malformed       atomic.Int64
	rateDisconnects atomic.Int64
	recovered       atomic.Int64

	refusalDisconnects atomic.Int64
	stalledDisconnects atomic.Int64
	drainDisconnects   atomic.Int64
	writeFailures      atomic.Int64
	replies            [8]atomic.Int64 // indexed like replyStatuses
	buckets            [16]atomic.Int64

	calls          [len(callOutcomes)]atomic.Int64
	callBuckets    [16]atomic.Int64
	callLatency    atomic.Int64
	answersDropped atomic.Int64
}

func (s *stats) called(outcome int, took time.Duration) {
	s.calls[outcome].Add(1)
	if outcome != outAnswered {
		return
	}
	s.callLatency.Add(int64(took))
	s.callBuckets[bucketOf(took)].Add(1)
}

var replyStatuses = [8]int{200, 304, 400, 404, 413, 429, 500, 503}

func (s *stats) replied(status int, took time.Duration) {
	for i, st := range replyStatuses {
		if st == status {
			s.replies[i].Add(1)
		}
	}
	s.latency.Add(int64(took))
	s.buckets[bucketOf(took)].Add(1)
}

// bucketOf is the index of took's latency bucket: the first whose upper
// bound it does not exceed, len(LatencyBuckets) above all bounds.
func bucketOf(took time.Duration) int {
	i := 0
	for i < len(LatencyBuckets) && took > LatencyBuckets[i] {
		i++
	}
	return i
}

func (s *stats) snapshot(g *session.Registry) Stats {
	out := Stats{
		Requests:        s.requests.Load(),
		NoResponseTopic: s.noResponseTopic.Load(),
		Refused:         s.refused.Load(),
		Expired:         s.expired.Load(),
		Undeliverable:   s.undeliverable.Load(),
		LatencyTotal:    time.Duration(s.latency.Load()),
		Replies:         map[int]int64{},
		Latency:         make([]int64, len(LatencyBuckets)+1),
		Connected:       int(s.connected.Load()),
		AuthRefused:     s.authRefused.Load(),
		Malformed:       s.malformed.Load(),
		RateDisconnects: s.rateDisconnects.Load(),
		Recovered:       s.recovered.Load(),

		RefusalDisconnects: s.refusalDisconnects.Load(),
		StalledDisconnects: s.stalledDisconnects.Load(),
		DrainDisconnects:   s.drainDisconnects.Load(),
		WriteFailures:      s.writeFailures.Load(),
	}
	for i, st := range replyStatuses {
		if n := s.replies[i].Load(); n > 0 {
			out.Replies[st] = n
		}
	}
	for i := range out.Latency {
		out.Latency[i] = s.buckets[i].Load()
	}
	out.Calls = map[string]int64{}
	for i, name := range callOutcomes {
		if n := s.calls[i].Load(); n > 0 {
			out.Calls[name] = n
		}
	}
	out.AnswersDropped = s.answersDropped.Load()
	out.CallLatencyTotal = time.Duration(s.callLatency.Load())
	out.CallLatency = make([]int64, len(LatencyBuckets)+1)
	for i := range out.CallLatency {
		out.CallLatency[i] = s.callBuckets[i].Load()
	}
	out.Devices = g.Len()
	return out
}
