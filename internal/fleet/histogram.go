package fleet

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram counts durations in log-linear buckets: 64 per power of two
// above 128 ns, so a reported percentile is at most 1/64 (1.6 %) above the
// true value, the same bound an HDR histogram with two significant digits
// gives. HdrHistogram's Go port is not available to this module, and the
// bench needs little of it: concurrent recording without a lock, merging
// (of the summaries of several processes) and percentiles.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	max    atomic.Int64
}

const (
	subBits     = 7 // values below 1<<subBits ns are exact
	histBuckets = (64-subBits)<<(subBits-1) + 1<<subBits
)

func bucket(v int64) int {
	if v < 1<<subBits {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - subBits
	return e<<(subBits-1) + int(uint64(v)>>e)
}

// highest is the largest value that falls into bucket i.
func highest(i int) int64 {
	if i < 1<<subBits {
		return int64(i)
	}
	e := i>>(subBits-1) - 1
	m := int64(i - e<<(subBits-1))
	return (m+1)<<e - 1
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucket(v)].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is how many durations were recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the longest duration recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Quantile returns the duration at or below which the share q (0..1) of
// the recorded durations lie (0 if none were).
func (h *Histogram) Quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(q*float64(n) + 0.5)
	rank = min(max(rank, 1), n)
	var seen uint64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= rank {
			return min(time.Duration(highest(i)), h.Max())
		}
	}
	return h.Max()
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
	h.n.Add(o.n.Load())
	for {
		m, v := h.max.Load(), o.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// histJSON is a histogram as a -json summary carries it, so that the
// summaries of several processes merge exactly: the non-empty buckets as
// [index, count] pairs, and the maximum in nanoseconds.
type histJSON struct {
	Buckets [][2]uint64 `json:"buckets"`
	MaxNS   int64       `json:"max_ns"`
}

// MarshalJSON implements [json.Marshaler].
func (h *Histogram) MarshalJSON() ([]byte, error) {
	j := histJSON{Buckets: [][2]uint64{}, MaxNS: h.max.Load()}
	for i := range h.counts {
		if c := h.counts[i].Load(); c > 0 {
			j.Buckets = append(j.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements [json.Unmarshaler].
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	for _, bc := range j.Buckets {
		if bc[0] >= histBuckets {
			return fmt.Errorf("histogram bucket %d: out of range (0..%d)", bc[0], histBuckets-1)
		}
		h.counts[bc[0]].Add(bc[1])
		h.n.Add(bc[1])
	}
	h.max.Store(j.MaxNS)
	return nil
}
