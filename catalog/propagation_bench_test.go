package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// BenchmarkEditPropagation measures how long after an editor's publish
// returns the other nodes' caches stop serving the old version: three
// stores on one Redis (three nodes), the first edits a recipe, the others
// are polled until the recipe's cached answer is gone or new. It reports
// the p50 and p99 over all edits of both watchers; run it with
// -benchtime 200x or more, on miniredis or a real Redis at REDIS_URL
// (standalone, Sentinel or Cluster):
//
//	REDIS_URL=redis+cluster://127.0.0.1:PORT go test ./catalog -run '^$' -bench EditPropagation -benchtime 300x
func BenchmarkEditPropagation(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	editor, w1, w2 := env.Open(b), env.Open(b), env.Open(b)
	r := recipe("r-1", "soups", "Soup 0")
	if _, err := editor.Sync(ctx, []recipes.Category{category("soups", 0)}, []recipes.Recipe{r}, catalog.SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	q := recipes.Query{Category: "soups", RecipeID: "r-1"}
	watchers := []*catalog.Store{w1, w2}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		old := make([]string, len(watchers))
		for k, w := range watchers {
			old[k] = mustFind(b, w, q).ETag // cached now
		}
		i++
		r.Title = fmt.Sprintf("Soup %d", i)
		b.StartTimer()
		if _, err := editor.Sync(ctx, nil, []recipes.Recipe{r}, catalog.SyncOptions{}); err != nil {
			b.Fatal(err)
		}
		published := time.Now()
		for k, w := range watchers {
			for {
				doc, err := w.FindCached(q)
				if errors.Is(err, recipes.ErrUncached) || err == nil && doc.ETag != old[k] {
					lat = append(lat, time.Since(published))
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if time.Since(published) > 10*time.Second {
					b.Fatalf("edit %d: watcher %d still serves the old version after 10s", i, k)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
