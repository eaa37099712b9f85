package seed_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/seed"
)

func TestSynthetic(t *testing.T) {
	sizes := []int{0, 1, 130, 5000, 30000}
	if testing.Short() {
		sizes = sizes[:4]
	}
	for _, n := range sizes {
		c, err := seed.Synthetic(n, 42)
		if err != nil {
			t.Fatalf("Synthetic(%d): %v", n, err)
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Synthetic(%d) is invalid: %v", n, err)
		}
		if len(c.Recipes) != n {
			t.Fatalf("Synthetic(%d) has %d recipes", n, len(c.Recipes))
		}
		wantCats := min(max(10, (n+1249)/1250), 80)
		if len(c.Categories) != wantCats {
			t.Errorf("Synthetic(%d) has %d categories, want %d", n, len(c.Categories), wantCats)
		}
		for _, r := range c.Recipes {
			sum := 0
			for _, s := range r.Steps {
				sum += s.Minutes
			}
			if r.TotalMinutes < sum {
				t.Fatalf("recipe %s: total_minutes %d < the steps' %d", r.ID, r.TotalMinutes, sum)
			}
		}
	}
	t.Run("Deterministic", func(t *testing.T) {
		a, _ := seed.Synthetic(500, 7)
		b, _ := seed.Synthetic(500, 7)
		if diff := cmp.Diff(a.Recipes, b.Recipes); diff != "" {
			t.Fatalf("same seed, different catalogs:\n%s", diff)
		}
		c, _ := seed.Synthetic(500, 8)
		if cmp.Equal(a.Recipes, c.Recipes) {
			t.Fatal("another seed gives the same catalog")
		}
	})
	t.Run("ErrNegative", func(t *testing.T) {
		if _, err := seed.Synthetic(-1, 1); err == nil {
			t.Fatal("no error")
		}
	})
}
