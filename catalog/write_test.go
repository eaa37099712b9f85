package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

var ignoreUpdated = cmpopts.IgnoreFields(recipes.Recipe{}, "UpdatedAt")

func TestPutCategory(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		before := time.Now().UTC()
		mustPutCategory(t, s, category("soups", 3))
		c, err := s.Category(ctx, "soups")
		if err != nil {
			t.Fatal(err)
		}
		if c.UpdatedAt.Before(before) || c.UpdatedAt.Location() != time.UTC {
			t.Errorf("UpdatedAt = %v, want UTC and after %v", c.UpdatedAt, before)
		}
		if diff := cmp.Diff(category("soups", 3), c, cmpopts.IgnoreFields(recipes.Category{}, "UpdatedAt")); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		err := s.PutCategory(ctx, recipes.Category{Slug: "Bad Slug"})
		var verr *recipes.ValidationError
		if !errors.As(err, &verr) || err != error(verr) {
			t.Fatalf("err = %#v, want the *ValidationError itself", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.Category(ctx, "nope")
		assertCode(t, err, recipes.ENOTFOUND, `category "nope" not found`)
	})
}

func TestDeleteCategory(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedSoups(t, s)
	t.Run("ErrConflict", func(t *testing.T) {
		assertCode(t, s.DeleteCategory(ctx, "soups"), recipes.ECONFLICT, "")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		assertCode(t, s.DeleteCategory(ctx, "nope"), recipes.ENOTFOUND, `category "nope" not found`)
	})
	t.Run("OK", func(t *testing.T) {
		if err := s.DeleteRecipe(ctx, "greek-salad"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteCategory(ctx, "salads"); err != nil {
			t.Fatal(err)
		}
		cats, err := s.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cats) != 1 || cats[0].Slug != "soups" {
			t.Fatalf("Categories = %+v, want soups only", cats)
		}
		_, err = s.RecipesIn(ctx, "salads")
		assertCode(t, err, recipes.ENOTFOUND, `category "salads" not found`)
	})
}

func TestPutRecipe(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedSoups(t, s)
	t.Run("ErrInvalid", func(t *testing.T) {
		err := s.PutRecipe(ctx, recipe("x", "soups", ""))
		var verr *recipes.ValidationError
		if !errors.As(err, &verr) || err != error(verr) || verr.Field("title") == "" {
			t.Fatalf("err = %#v, want the *ValidationError naming title", err)
		}
	})
	t.Run("ErrUnknownCategory", func(t *testing.T) {
		err := s.PutRecipe(ctx, recipe("x", "desserts", "X"))
		assertCode(t, err, recipes.EINVALID, `recipe "x": category "desserts" does not exist`)
		_, err = s.Recipe(ctx, "x")
		assertCode(t, err, recipes.ENOTFOUND, `recipe "x" not found`)
	})
	t.Run("Rename", func(t *testing.T) {
		mustPutRecipe(t, s, recipe("apple-soup", "soups", "Yellow Apple Soup"))
		assertList(t, s, "soups", "bean-stew", "tomato-soup", "apple-soup", "zucchini-a", "zucchini-b")
	})
	t.Run("Move", func(t *testing.T) {
		mustPutRecipe(t, s, recipe("bean-stew", "salads", "Bean Salad"))
		assertList(t, s, "soups", "tomato-soup", "apple-soup", "zucchini-a", "zucchini-b")
		assertList(t, s, "salads", "bean-stew", "greek-salad")
		_, err := s.Find(ctx, recipes.Query{Category: "soups", RecipeID: "bean-stew"})
		assertCode(t, err, recipes.ENOTFOUND, `recipe "bean-stew" not found in category "soups"`)
		mustFind(t, s, recipes.Query{Category: "salads", RecipeID: "bean-stew"})
		if err := s.DeleteCategory(ctx, "soups"); recipes.ErrorCode(err) != recipes.ECONFLICT {
			t.Fatalf("DeleteCategory(soups) = %v, want a conflict", err)
		}
	})
	t.Run("RoundTrip", func(t *testing.T) {
		want := recipe("full", "soups", "Full", withTags("a", "b"), withModels("CM-200"))
		want.Summary = "All fields."
		temp, speed := 100, 3
		want.Steps = append(want.Steps, recipes.Step{Text: "Stir.", Minutes: 2, TemperatureC: &temp, Speed: &speed})
		mustPutRecipe(t, s, want)
		got, err := s.Recipe(ctx, "full")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, ignoreUpdated); diff != "" || got.UpdatedAt.IsZero() {
			t.Fatalf("(-want +got):\n%s\nUpdatedAt %v", diff, got.UpdatedAt)
		}
	})
}

// assertList checks a category's recipe ids through both the admin read
// and Find.
func assertList(tb testing.TB, s *catalog.Store, slug string, want ...string) {
	tb.Helper()
	sums, err := s.RecipesIn(context.Background(), slug)
	if err != nil {
		tb.Fatal(err)
	}
	if diff := cmp.Diff(want, ids(sums)); diff != "" {
		tb.Fatalf("RecipesIn(%s) (-want +got):\n%s", slug, diff)
	}
	found := decode[listData](tb, mustFind(tb, s, recipes.Query{Category: slug, Limit: 100})).Items
	if diff := cmp.Diff(want, ids(found)); diff != "" {
		tb.Fatalf("Find(%s) (-want +got):\n%s", slug, diff)
	}
}

func TestDeleteRecipe(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedSoups(t, s)
	t.Run("OK", func(t *testing.T) {
		if err := s.DeleteRecipe(ctx, "tomato-soup"); err != nil {
			t.Fatal(err)
		}
		assertList(t, s, "soups", "apple-soup", "bean-stew", "zucchini-a", "zucchini-b")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		assertCode(t, s.DeleteRecipe(ctx, "tomato-soup"), recipes.ENOTFOUND, `recipe "tomato-soup" not found`)
	})
}

func TestImport(t *testing.T) {
	ctx := context.Background()
	cats := []recipes.Category{category("soups", 0), category("salads", 1)}
	var recs []recipes.Recipe
	for i := range 30 {
		recs = append(recs, recipe(fmt.Sprintf("r-%02d", i), cats[i%2].Slug, fmt.Sprintf("Recipe %02d", i)))
	}
	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		v0 := mustVersion(t, s)
		if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if v := mustVersion(t, s); v != v0+1 {
			t.Fatalf("version %d -> %d, want one bump", v0, v)
		}
		sums, err := s.RecipesIn(ctx, "salads")
		if err != nil || len(sums) != 15 {
			t.Fatalf("RecipesIn(salads) = %d summaries, %v; want 15", len(sums), err)
		}
		// Importing the same catalog again changes no content, so no ETag.
		before := mustFind(t, s, recipes.Query{Category: "soups", Limit: 100})
		if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if after := mustFind(t, s, recipes.Query{Category: "soups", Limit: 100}); after.ETag != before.ETag {
			t.Fatalf("re-import changed the list ETag %s -> %s", before.ETag, after.ETag)
		}
		// A changed item gets a new UpdatedAt, and moves between categories.
		moved := recipe("r-00", "salads", "Recipe 00")
		if _, err := s.Sync(ctx, nil, []recipes.Recipe{moved}, catalog.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		assertList(t, s, "salads", "r-00", "r-01", "r-03", "r-05", "r-07", "r-09", "r-11", "r-13", "r-15", "r-17", "r-19", "r-21", "r-23", "r-25", "r-27", "r-29")
	})
	tests := []struct {
		name string
		cats []recipes.Category
		recs []recipes.Recipe
		code string
	}{
		{"ErrInvalidRecipe", cats, append(recs[:10:10], recipe("bad", "soups", "")), recipes.EINVALID},
		{"ErrInvalidCategory", append(cats[:1:1], recipes.Category{Slug: "x"}), recs, recipes.EINVALID},
		{"ErrUnknownCategory", cats[:1], recs, recipes.EINVALID},
		{"ErrDuplicate", cats, append(recs[:3:3], recs[0]), recipes.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenStore(t)
			v0 := mustVersion(t, s)
			_, err := s.Sync(ctx, tt.cats, tt.recs, catalog.SyncOptions{})
			assertCode(t, err, tt.code, "")
			if v := mustVersion(t, s); v != v0 {
				t.Fatalf("version %d -> %d after a failed import", v0, v)
			}
			if cs, err := s.Categories(ctx); err != nil || len(cs) != 0 {
				t.Fatalf("Categories = %v, %v; want none written", cs, err)
			}
			if _, err := s.Recipe(ctx, "r-00"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
				t.Fatalf("Recipe(r-00) err = %v; want nothing written", err)
			}
		})
	}
}

func mustVersion(tb testing.TB, s *catalog.Store) int64 {
	tb.Helper()
	v, err := s.Version(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

func TestVersion(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	if v := mustVersion(t, s); v != 0 {
		t.Fatalf("fresh version = %d", v)
	}
	mustPutCategory(t, s, category("soups", 0))
	mustPutRecipe(t, s, recipe("a", "soups", "A"))
	_ = s.DeleteRecipe(ctx, "nope") // fails: no bump
	if err := s.DeleteRecipe(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if v := mustVersion(t, s); v != 3 {
		t.Fatalf("version = %d after 3 writes", v)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}
