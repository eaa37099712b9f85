package responder

import (
	"sync/atomic"
	"time"
)

// Stats are the responder's counters since start.
type Stats struct {
	Requests        int64         // requests handed to the responder
	NoResponseTopic int64         // dropped: no Response Topic to answer on
	Refused         int64         // refused: Response Topic not the sender's
	Expired         int64         // not answered: the request expired first
	Undeliverable   int64         // answered, but the device cannot take the reply
	Replies         map[int]int64 // replies by status
	LatencyTotal    time.Duration // summed request-to-reply time of all replies
	Devices         int           // device sessions known (online or not)
}

type stats struct {
	requests        atomic.Int64
	noResponseTopic atomic.Int64
	refused         atomic.Int64
	expired         atomic.Int64
	undeliverable   atomic.Int64
	latency         atomic.Int64
	replies         [8]atomic.Int64 // indexed like replyStatuses
}

var replyStatuses = [8]int{200, 304, 400, 404, 413, 429, 500, 503}

func (s *stats) replied(status int, took time.Duration) {
	for i, st := range replyStatuses {
		if st == status {
			s.replies[i].Add(1)
		}
	}
	s.latency.Add(int64(took))
}

func (s *stats) snapshot(g *registry) Stats {
	out := Stats{
		Requests:        s.requests.Load(),
		NoResponseTopic: s.noResponseTopic.Load(),
		Refused:         s.refused.Load(),
		Expired:         s.expired.Load(),
		Undeliverable:   s.undeliverable.Load(),
		LatencyTotal:    time.Duration(s.latency.Load()),
		Replies:         map[int]int64{},
	}
	for i, st := range replyStatuses {
		if n := s.replies[i].Load(); n > 0 {
			out.Replies[st] = n
		}
	}
	g.mu.RLock()
	out.Devices = len(g.devices)
	g.mu.RUnlock()
	return out
}
