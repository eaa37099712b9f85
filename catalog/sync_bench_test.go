package catalog_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// benchCatalog returns n recipes shaped like real ones (eight ingredients,
// six steps, about 1 KB of JSON each) in n/1250+1 categories.
func benchCatalog(n int, variant string) ([]recipes.Category, []recipes.Recipe) {
	var cats []recipes.Category
	for i := range n/1250 + 1 {
		cats = append(cats, category(fmt.Sprintf("category-%d", i), i))
	}
	recs := make([]recipes.Recipe, n)
	for i := range recs {
		r := recipe(fmt.Sprintf("recipe-%d", i), cats[i%len(cats)].Slug, fmt.Sprintf("%sRecipe number %d with a longer title", variant, i),
			withTags("vegan", "quick"), withModels("CM-100", "CM-300"))
		r.Summary = "A warming dish that the appliance cooks in one bowl with little attention from the cook."
		r.Ingredients = nil
		for j := range 8 {
			r.Ingredients = append(r.Ingredients, recipes.Ingredient{Name: "ingredient number " + strconv.Itoa(j), Quantity: float64(10 * j), Unit: "g"})
		}
		r.Steps = nil
		for j := range 6 {
			t, sp := 90+j, j
			r.Steps = append(r.Steps, recipes.Step{Text: "Do the next thing with everything in the bowl, then scrape down the sides.", Minutes: j, TemperatureC: &t, Speed: &sp})
		}
		recs[i] = r
	}
	return cats, recs
}

// BenchmarkSync seeds BENCH_RECIPES recipes (default 10,000) into an empty
// store, then again unchanged, then with every title changed.
func BenchmarkSync(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RECIPES")); err == nil {
		n = v
	}
	cats, recs := benchCatalog(n, "")
	_, changed := benchCatalog(n, "New ")
	ctx := context.Background()
	for _, step := range []struct {
		name string
		recs []recipes.Recipe
	}{{"Fresh", recs}, {"Unchanged", recs}, {"Changed", changed}} {
		b.Run(step.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				env := newEnv(b)
				// One big transaction is one round trip.
				s := mustOpen(b, env.URL, catalog.Options{KeyPrefix: env.Prefix, Timeout: time.Minute})
				if step.name != "Fresh" {
					if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if _, err := s.Sync(ctx, cats, step.recs, catalog.SyncOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
