package recipes_test

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

func TestQuantile(t *testing.T) {
	b := []recipes.LatencyBucket{{Le: time.Millisecond, Count: 90}, {Le: 10 * time.Millisecond, Count: 9}, {Le: 0, Count: 1}}
	sparse := []recipes.LatencyBucket{{Le: time.Millisecond}, {Le: 10 * time.Millisecond, Count: 4}, {Le: 0}}
	tests := []struct {
		name    string
		buckets []recipes.LatencyBucket
		q       float64
		want    time.Duration
	}{
		{"p50", b, 0.5, time.Millisecond},
		{"p95", b, 0.95, 10 * time.Millisecond},
		{"p100 in the open bucket", b, 1, 20 * time.Millisecond},
		{"p0 skips empty buckets", sparse, 0, 10 * time.Millisecond},
		{"empty", nil, 0.5, 0},
		{"all zero", []recipes.LatencyBucket{{Le: time.Millisecond}, {}}, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := recipes.Quantile(tt.buckets, tt.q); got != tt.want {
				t.Errorf("Quantile(%g) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}
