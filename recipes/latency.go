package recipes

import "time"

// A LatencyBucket of a latency histogram counts the events that took at
// most Le and more than the previous bucket's Le. Le 0 marks the last
// bucket: longer than all others. The responder measures replies and
// calls in these; the admin dashboard reads them back from the metrics.
type LatencyBucket struct {
	Le    time.Duration
	Count int64
}

// Quantile estimates the q-quantile (0..1) of the events counted in
// buckets as the upper bound of the bucket it falls in; the open last
// bucket counts as twice the largest bound. It returns 0 when nothing was
// counted.
func Quantile(buckets []LatencyBucket, q float64) time.Duration {
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
