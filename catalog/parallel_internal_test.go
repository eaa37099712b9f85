package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

func TestInParallelCoversEveryIndexOnce(t *testing.T) {
	for _, n := range []int{0, 1, parallelMin - 1, parallelMin, 2*parallelMin + 1, 100_003} {
		hits := make([]int32, n)
		inParallel(n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				hits[i]++
			}
		})
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d handled %d times", n, i, h)
			}
		}
	}
}

// A sync of many items, validated and encoded in parallel, reports its
// problems in the order of the items and encodes each item as
// json.Marshal does, at its own index.
func TestSyncInputOfManyItemsKeepsItsOrder(t *testing.T) {
	n := 3*parallelMin + 7
	recs := make([]recipes.Recipe, n)
	for i := range recs {
		recs[i] = recipes.Recipe{
			ID: fmt.Sprintf("r-%d", i), Category: "soups", Title: fmt.Sprintf("Soup %d", i), Servings: 1, TotalMinutes: 1,
			Difficulty: recipes.Easy, Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 1, Unit: "l"}},
			Steps: []recipes.Step{{Text: "Boil."}}, UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			Translations: map[string]recipes.RecipeText{"de": {Title: fmt.Sprintf("Suppe %d", i)}},
		}
	}
	in, err := encodeSyncInput(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		r.UpdatedAt = time.Time{}
		want, _ := json.Marshal(r)
		if got := in.recs[i]; got.id != r.ID || string(got.recipe) != string(want) {
			t.Fatalf("recipe %d encoded as %s (%s); want %s", i, got.recipe, got.id, want)
		}
	}

	bad := []int{5, parallelMin + 1, n - 1}
	for _, i := range bad {
		recs[i].Title = ""
	}
	recs[2*parallelMin].ID = recs[3].ID
	err = validateImport(nil, recs)
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ve *recipes.ValidationError
		if errors.As(e, &ve) {
			got = append(got, ve.ID)
		} else {
			got = append(got, e.Error())
		}
	}
	want := []string{"r-5", "r-2001", recipes.Errorf(recipes.EINVALID, "recipe %q appears twice", "r-3").Error(), fmt.Sprintf("r-%d", n-1)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("validateImport: %q; want %q", got, want)
	}
}
