package catalog_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// seedThreeSoups publishes a soups category with three recipes.
func seedThreeSoups(tb testing.TB, s *catalog.Store) {
	tb.Helper()
	mustPutCategory(tb, s, category("soups", 0))
	mustPutRecipe(tb, s, recipe("tomato", "soups", "Tomato soup"), recipe("leek", "soups", "Leek soup"), recipe("pea", "soups", "Pea soup"))
}

func statuses(tb testing.TB, s *catalog.Store, slug string) map[string]recipes.Status {
	tb.Helper()
	page, err := s.EditorRecipes(context.Background(), slug, recipes.RecipeFilter{Limit: 100})
	if err != nil {
		tb.Fatalf("EditorRecipes(%s): %v", slug, err)
	}
	out := map[string]recipes.Status{}
	for _, ri := range page.Items {
		out[ri.ID] = ri.Status
	}
	return out
}

func findErr(s *catalog.Store, q recipes.Query) string {
	_, err := s.Find(context.Background(), q)
	return recipes.ErrorCode(err)
}

func TestDraftsAreInvisibleUntilPublished(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	v0, _ := s.Version(ctx)

	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "salads", Name: "Salads"}); err != nil {
		t.Fatal(err)
	}
	r := recipe("caesar", "salads", "Caesar salad")
	if _, err := s.CreateRecipe(ctx, r); err != nil {
		t.Fatal(err)
	}
	edited := recipe("tomato", "soups", "Tomato soup, roasted")
	if _, err := s.SaveRecipe(ctx, edited); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Version(ctx); v != v0 {
		t.Errorf("version %d after draft saves, want unchanged %d", v, v0)
	}

	// Appliances see none of it.
	if got := findErr(s, recipes.Query{Category: "salads"}); got != recipes.ENOTFOUND {
		t.Errorf("unpublished category: %q, want not_found", got)
	}
	got := decode[recipes.Recipe](t, mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato"}))
	if got.Title != "Tomato soup" {
		t.Errorf("published title %q, want the old one", got.Title)
	}

	// Editors see everything with its status.
	cats, err := s.EditorCategories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byslug := map[string]recipes.CategoryInfo{}
	for _, c := range cats {
		byslug[c.Slug] = c
	}
	if c := byslug["salads"]; c.Status != recipes.Unpublished || c.Recipes != 1 || c.Pending != 1 {
		t.Errorf("salads = %+v, want unpublished with 1 pending recipe", c)
	}
	if c := byslug["soups"]; c.Status != recipes.Published || c.Recipes != 3 || c.Pending != 1 {
		t.Errorf("soups = %+v, want published with 3 recipes, 1 pending", c)
	}
	if diff := cmp.Diff(map[string]recipes.Status{"tomato": recipes.Changed, "leek": recipes.Published, "pea": recipes.Published}, statuses(t, s, "soups")); diff != "" {
		t.Errorf("soups statuses (-want +got):\n%s", diff)
	}

	// Publishing the recipe publishes its new category with it.
	before := mustFind(t, s, recipes.Query{})
	pubd, err := s.PublishRecipe(ctx, "caesar")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recipes.Publication{Categories: []string{"salads"}, Recipes: []string{"caesar"}}, pubd); diff != "" {
		t.Errorf("publication (-want +got):\n%s", diff)
	}
	mustFind(t, s, recipes.Query{Category: "salads", RecipeID: "caesar"})
	if after := mustFind(t, s, recipes.Query{}); after.ETag == before.ETag {
		t.Error("category list ETag unchanged after publishing a category")
	}

	old := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato"})
	if _, err := s.PublishCategory(ctx, "soups"); err != nil {
		t.Fatal(err)
	}
	doc := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato"})
	if got := decode[recipes.Recipe](t, doc); got.Title != "Tomato soup, roasted" || doc.ETag == old.ETag {
		t.Errorf("after publish: %q etag %s (old %s)", got.Title, doc.ETag, old.ETag)
	}
	if st := statuses(t, s, "soups")["tomato"]; st != recipes.Published {
		t.Errorf("status after publish %q", st)
	}
	// Publishing again is a no-op.
	if pubd, err := s.PublishRecipe(ctx, "tomato"); err != nil || !pubd.Empty() {
		t.Errorf("second publish: %+v, %v", pubd, err)
	}
}

func TestSaveRecipe(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	t.Run("UnchangedDropsDraft", func(t *testing.T) {
		r, _, err := s.EditorRecipe(ctx, "leek")
		if err != nil {
			t.Fatal(err)
		}
		r.Title = "Leek soup 2"
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, st, _ := s.EditorRecipe(ctx, "leek"); st != recipes.Changed {
			t.Fatalf("status %q, want changed", st)
		}
		r.Title = "Leek soup"
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, st, _ := s.EditorRecipe(ctx, "leek"); st != recipes.Published {
			t.Fatalf("status %q after reverting the edit, want published", st)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.SaveRecipe(ctx, recipe("nope", "soups", "Nope"))
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.SaveRecipe(ctx, recipe("leek", "salads", "Leek soup"))
		var verr *recipes.ValidationError
		if !errors.As(err, &verr) || verr.Field("category") == "" {
			t.Fatalf("err = %v, want a category field error", err)
		}
	})
	t.Run("ErrTaken", func(t *testing.T) {
		_, err := s.CreateRecipe(ctx, recipe("leek", "soups", "Another leek soup"))
		var verr *recipes.ValidationError
		if !errors.As(err, &verr) || verr.Field("id") == "" {
			t.Fatalf("err = %v, want an id field error", err)
		}
	})
	t.Run("Discard", func(t *testing.T) {
		r := recipe("pea", "soups", "Pea soup, minted")
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.DiscardRecipe(ctx, "pea"); err != nil {
			t.Fatal(err)
		}
		if got, st, _ := s.EditorRecipe(ctx, "pea"); st != recipes.Published || got.Title == r.Title {
			t.Fatalf("after discard: %q %q", got.Title, st)
		}
	})
}

func TestRemoveCategory(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	mustPutCategory(t, s, category("stews", 5))
	if _, err := s.CreateRecipe(ctx, recipe("new-soup", "soups", "New soup")); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrConflict", func(t *testing.T) {
		_, err := s.RemoveCategory(ctx, "soups", recipes.CategoryRemoval{})
		assertCode(t, err, recipes.ECONFLICT, `category "soups" still holds 4 recipes; move them to another category or delete them with it`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := s.RemoveCategory(ctx, "soups", recipes.CategoryRemoval{MoveTo: "nope"})
		assertCode(t, err, recipes.EINVALID, "")
	})
	t.Run("MoveTo", func(t *testing.T) {
		n, err := s.RemoveCategory(ctx, "soups", recipes.CategoryRemoval{MoveTo: "stews"})
		if err != nil || n != 4 {
			t.Fatalf("RemoveCategory = %d, %v", n, err)
		}
		if got := findErr(s, recipes.Query{Category: "soups"}); got != recipes.ENOTFOUND {
			t.Errorf("soups still answered: %q", got)
		}
		mustFind(t, s, recipes.Query{Category: "stews", RecipeID: "leek"})
		if diff := cmp.Diff(map[string]recipes.Status{"tomato": recipes.Published, "leek": recipes.Published,
			"pea": recipes.Published, "new-soup": recipes.Unpublished}, statuses(t, s, "stews")); diff != "" {
			t.Errorf("stews (-want +got):\n%s", diff)
		}
	})
	t.Run("DeleteRecipes", func(t *testing.T) {
		n, err := s.RemoveCategory(ctx, "stews", recipes.CategoryRemoval{DeleteRecipes: true})
		if err != nil || n != 4 {
			t.Fatalf("RemoveCategory = %d, %v", n, err)
		}
		if _, _, err := s.EditorRecipe(ctx, "new-soup"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Errorf("draft survived: %v", err)
		}
		if got := findErr(s, recipes.Query{Category: "stews", RecipeID: "leek"}); got != recipes.ENOTFOUND {
			t.Errorf("recipe still answered: %q", got)
		}
	})
}

func TestMoveRecipe(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "drafty", Name: "Drafty"}); err != nil {
		t.Fatal(err)
	}
	mustPutCategory(t, s, category("stews", 5))
	t.Run("ErrConflict", func(t *testing.T) {
		assertCode(t, s.MoveRecipe(ctx, "leek", "drafty"), recipes.ECONFLICT, "")
	})
	t.Run("OK", func(t *testing.T) {
		if err := s.MoveRecipe(ctx, "leek", "stews"); err != nil {
			t.Fatal(err)
		}
		mustFind(t, s, recipes.Query{Category: "stews", RecipeID: "leek"})
		if got := findErr(s, recipes.Query{Category: "soups", RecipeID: "leek"}); got != recipes.ENOTFOUND {
			t.Errorf("still in soups: %q", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		assertCode(t, s.MoveRecipe(ctx, "nope", "stews"), recipes.ENOTFOUND, "")
	})
}

func TestReorderCategories(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	mustPutCategory(t, s, category("a", 1), category("b", 2))
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "c", Name: "C"}); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		assertCode(t, s.ReorderCategories(ctx, []string{"a", "b"}), recipes.EINVALID, `the new order leaves out category "c"`)
		assertCode(t, s.ReorderCategories(ctx, []string{"a", "b", "c", "a"}), recipes.EINVALID, "")
	})
	t.Run("OK", func(t *testing.T) {
		if err := s.ReorderCategories(ctx, []string{"c", "b", "a"}); err != nil {
			t.Fatal(err)
		}
		cats, err := s.EditorCategories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cats {
			got = append(got, c.Slug)
		}
		if diff := cmp.Diff([]string{"c", "b", "a"}, got); diff != "" {
			t.Errorf("editor order (-want +got):\n%s", diff)
		}
		pub := decode[categoryData](t, mustFind(t, s, recipes.Query{}))
		if len(pub.Items) != 2 || pub.Items[0].Slug != "b" {
			t.Errorf("published order %+v, want b then a", pub.Items)
		}
	})
}

func TestUpdateCategory(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	mustPutCategory(t, s, category("a", 1))
	name := "Renamed"
	c, err := s.UpdateCategory(ctx, "a", recipes.CategoryUpdate{Name: &name})
	if err != nil || c.Name != name {
		t.Fatalf("UpdateCategory = %+v, %v", c, err)
	}
	if ci, _ := s.EditorCategory(ctx, "a"); ci.Status != recipes.Changed || ci.Name != name {
		t.Fatalf("editor copy %+v", ci)
	}
	if pub, _ := s.Category(ctx, "a"); pub.Name == name {
		t.Fatal("rename visible before publishing")
	}
	empty := ""
	_, err = s.UpdateCategory(ctx, "a", recipes.CategoryUpdate{Name: &empty})
	var verr *recipes.ValidationError
	if !errors.As(err, &verr) || verr.Field("name") == "" {
		t.Fatalf("err = %v, want a name field error", err)
	}
	if _, err := s.PublishCategory(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if pub, _ := s.Category(ctx, "a"); pub.Name != name {
		t.Fatalf("published name %q", pub.Name)
	}
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "a", Name: "Dup"}); err == nil {
		t.Fatal("duplicate slug accepted")
	}
}
