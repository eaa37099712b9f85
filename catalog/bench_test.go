package catalog_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// benchStore holds a category of 200 recipes with typical summaries.
func benchStore(b *testing.B) *catalog.Store {
	s := MustOpenStore(b)
	var recs []recipes.Recipe
	for i := range 200 {
		r := recipe(fmt.Sprintf("recipe-%03d", i), "soups", fmt.Sprintf("Soup number %03d", i),
			withTags("vegan", "quick", fmt.Sprintf("tag-%d", i%7)), withModels("CM-100", "CM-300"))
		r.Summary = "A warming soup that the appliance cooks in one pot with little attention."
		recs = append(recs, r)
	}
	if _, err := s.Sync(context.Background(), []recipes.Category{category("soups", 0)}, recs, catalog.SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkFindCachedRecipe(b *testing.B) {
	s := benchStore(b)
	q := recipes.Query{Category: "soups", RecipeID: "recipe-123", Model: "CM-300"}
	mustFind(b, s, q)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.FindCached(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFindCachedRecipeParallel(b *testing.B) {
	s := benchStore(b)
	q := recipes.Query{Category: "soups", RecipeID: "recipe-123", Model: "CM-300"}
	mustFind(b, s, q)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.FindCached(q); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindCachedList(b *testing.B) {
	s := benchStore(b)
	for _, bc := range []struct {
		name string
		q    recipes.Query
	}{
		{"First20", recipes.Query{Category: "soups", Limit: 20, Model: "CM-100"}},
		{"Text20", recipes.Query{Category: "soups", Limit: 20, Text: "tag-3"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			first := mustFind(b, s, bc.q)
			q := bc.q
			q.Cursor = *decode[listData](b, first).Next // a middle page
			mustFind(b, s, q)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.FindCached(q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
