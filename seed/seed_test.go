package seed_test

import (
	"slices"
	"testing"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// MustDemo returns the demo catalog and fails the test if it is invalid.
func MustDemo(tb testing.TB) seed.Catalog {
	tb.Helper()
	c, err := seed.Demo()
	if err != nil {
		tb.Fatalf("Demo: %v", err)
	}
	return c
}

func TestDemo(t *testing.T) {
	c := MustDemo(t)

	if got, min := len(c.Categories), 8; got < min {
		t.Errorf("%d categories, want at least %d", got, min)
	}
	if got, min := len(c.Recipes), 120; got < min {
		t.Errorf("%d recipes, want at least %d", got, min)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	perCategory := make(map[string]int)
	positions := make(map[int]string)
	for _, cat := range c.Categories {
		perCategory[cat.Slug] = 0
		if other, ok := positions[cat.Position]; ok {
			t.Errorf("categories %q and %q share position %d", other, cat.Slug, cat.Position)
		}
		positions[cat.Position] = cat.Slug
	}
	ids := make(map[string]bool)
	for _, r := range c.Recipes {
		if ids[r.ID] {
			t.Errorf("recipe id %q is used twice", r.ID)
		}
		ids[r.ID] = true
		if _, ok := perCategory[r.Category]; !ok {
			t.Errorf("recipe %q: category %q does not exist", r.ID, r.Category)
		}
		perCategory[r.Category]++
	}
	for slug, n := range perCategory {
		if n < 10 {
			t.Errorf("category %q has %d recipes, want at least 10", slug, n)
		}
	}
	t.Logf("%d categories, %d recipes: %v", len(c.Categories), len(c.Recipes), perCategory)
}

// TestDemoDevice: the demo device is a valid device of a known model that
// sees every demo recipe, so the first start's try-it line finds them all.
func TestDemoDevice(t *testing.T) {
	if !recipes.ValidDeviceID(seed.DemoDeviceID) {
		t.Errorf("DemoDeviceID %q is not a valid device id", seed.DemoDeviceID)
	}
	if !slices.Contains(recipes.Models, seed.DemoDeviceModel) {
		t.Fatalf("DemoDeviceModel %q is not one of %v", seed.DemoDeviceModel, recipes.Models)
	}
	for _, r := range MustDemo(t).Recipes {
		if len(r.Models) > 0 && !slices.Contains(r.Models, seed.DemoDeviceModel) {
			t.Errorf("recipe %q is for %v: the demo device, a %s, does not see it", r.ID, r.Models, seed.DemoDeviceModel)
		}
	}
}

// TestDemoRecipes checks what Validate cannot: that each demo recipe makes
// sense as a whole.
func TestDemoRecipes(t *testing.T) {
	for _, r := range MustDemo(t).Recipes {
		t.Run(r.ID, func(t *testing.T) {
			sum, hottest := 0, 0
			for _, s := range r.Steps {
				sum += s.Minutes
				if s.TemperatureC != nil {
					hottest = max(hottest, *s.TemperatureC)
				}
			}
			if r.TotalMinutes < sum {
				t.Errorf("total_minutes %d is less than the steps' %d", r.TotalMinutes, sum)
			}
			if n := len(r.Steps); n < 3 || n > 8 {
				t.Errorf("%d steps, want 3 to 8", n)
			}
			if r.Summary == "" {
				t.Error("no summary")
			}
			// Above 120 °C only the CM-300X can cook, and it is the only
			// reason to restrict a recipe to it.
			if hot, only := hottest > 120, slices.Equal(r.Models, []string{"CM-300X"}); hot != only {
				t.Errorf("hottest step %d °C but models %v; recipes above 120 °C are for the CM-300X only, and only those", hottest, r.Models)
			}
			for _, tag := range r.Tags {
				if tag == "" || !recipes.ValidSlug(tag) {
					t.Errorf("tag %q is not a lower-case slug", tag)
				}
			}
		})
	}
}
