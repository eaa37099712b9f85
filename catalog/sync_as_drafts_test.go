package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

func TestSyncDrafts(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	cats, recs := syncFixture()
	mustSync(t, s, cats, recs[:10], false)
	v0 := mustVersion(t, s)
	list := mustFind(t, s, recipes.Query{})
	q := recipes.Query{Category: "soups", RecipeID: "r-00"}
	old := mustFind(t, s, q)
	cached, err := s.FindCached(q)
	if err != nil {
		t.Fatal(err)
	}

	// r-00 and the soups category change, r-10..r-19 and "drinks" are new,
	// r-01..r-09 are as published.
	cats = append(cats, category("drinks", 3))
	recs[0].Title = "Recipe 00, revised"
	cats[0].Name = "Soups, revised"
	recs = append(recs, recipe("tea", "drinks", "Tea"))
	// An existing draft identical to the published copy gets dropped.
	edited := recs[1]
	edited.Title = "Editor's title"
	if _, err := s.SaveRecipe(ctx, edited); err != nil {
		t.Fatal(err)
	}

	before := env.Snapshot(t)
	plan, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Drafts: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
		t.Fatalf("PlanDrafts changed the store (-before +after):\n%s", diff)
	}
	changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Drafts: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(plan, changes); diff != "" {
		t.Errorf("SyncDrafts differs from PlanDrafts (-plan +sync):\n%s", diff)
	}
	got := [...]int{count(changes, "recipe", recipes.ItemAdded), count(changes, "recipe", recipes.ItemChanged),
		count(changes, "category", recipes.ItemAdded), count(changes, "category", recipes.ItemChanged)}
	if got != [...]int{11, 1, 1, 1} {
		t.Errorf("added/changed recipes, added/changed categories = %v, want [11 1 1 1]: %v", got, changes)
	}

	// Appliances see nothing change.
	if v := mustVersion(t, s); v != v0 {
		t.Errorf("version %d -> %d, want unchanged", v0, v)
	}
	if doc := mustFind(t, s, q); doc.ETag != old.ETag {
		t.Errorf("Find(r-00) changed: %s", doc.ETag)
	}
	if doc, err := s.FindCached(q); err != nil || doc.ETag != cached.ETag {
		t.Errorf("FindCached(r-00) = %v, %v; want the old copy", doc.ETag, err)
	}
	if doc := mustFind(t, s, recipes.Query{}); doc.ETag != list.ETag {
		t.Error("category list changed")
	}
	if got := findErr(s, recipes.Query{Category: "drinks"}); got != recipes.ENOTFOUND {
		t.Errorf("draft category drinks: %q, want not_found", got)
	}
	if got := findErr(s, recipes.Query{Category: "soups", RecipeID: "r-10"}); got != recipes.ENOTFOUND {
		t.Errorf("draft recipe r-10: %q, want not_found", got)
	}

	// Editors see the drafts.
	for id, want := range map[string]recipes.Status{"r-00": recipes.Changed, "r-10": recipes.Unpublished, "tea": recipes.Unpublished, "r-01": recipes.Published, "r-02": recipes.Published} {
		r, st, err := s.EditorRecipe(ctx, id)
		if err != nil || st != want {
			t.Errorf("EditorRecipe(%s) = %s, %v; want %s", id, st, err, want)
		}
		if id == "r-00" && r.Title != "Recipe 00, revised" {
			t.Errorf("EditorRecipe(r-00).Title = %q", r.Title)
		}
	}
	if c, err := s.EditorCategory(ctx, "drinks"); err != nil || c.Status != recipes.Unpublished {
		t.Errorf("EditorCategory(drinks) = %+v, %v", c, err)
	}
	if c, err := s.EditorCategory(ctx, "soups"); err != nil || c.Status != recipes.Changed {
		t.Errorf("EditorCategory(soups) = %+v, %v", c, err)
	}

	// Seeding the same drafts again changes nothing.
	again := env.Snapshot(t)
	if changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Drafts: true}); err != nil || len(changes) != 0 {
		t.Errorf("second SyncDrafts = %v, %v; want no changes", changes, err)
	}
	if diff := cmp.Diff(again, env.Snapshot(t)); diff != "" {
		t.Errorf("second SyncDrafts wrote (-before +after):\n%s", diff)
	}

	// Publishing one recipe makes it visible.
	if _, err := s.PublishRecipe(ctx, "r-00"); err != nil {
		t.Fatal(err)
	}
	if got := decode[recipes.Recipe](t, mustFind(t, s, q)); got.Title != "Recipe 00, revised" {
		t.Errorf("published title %q", got.Title)
	}
	if _, err := s.PublishRecipe(ctx, "tea"); err != nil {
		t.Fatal(err)
	}
	mustFind(t, s, recipes.Query{Category: "drinks", RecipeID: "tea"})
}

func TestSyncDrafts_Refused(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	cats, recs := syncFixture()
	mustSync(t, s, cats, recs, false)
	before := env.Snapshot(t)
	for name, tc := range map[string]struct {
		cats []recipes.Category
		recs []recipes.Recipe
		opts catalog.SyncOptions
	}{
		"unknown category": {nil, []recipes.Recipe{recipe("x", "nowhere", "X")}, catalog.SyncOptions{}},
		"moved":            {nil, []recipes.Recipe{recipe("r-00", "salads", "Recipe 00")}, catalog.SyncOptions{}},
		"prune":            {cats[:1], recs[:2], catalog.SyncOptions{Prune: true}},
		"devices":          {cats, recs, catalog.SyncOptions{Devices: noDevices{t}}},
	} {
		tc.opts.Drafts = true
		_, err := s.Sync(ctx, tc.cats, tc.recs, tc.opts)
		if recipes.ErrorCode(err) != recipes.EINVALID {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
		t.Fatalf("refused SyncDrafts changed the store:\n%s", diff)
	}
}

// noDevices is a [catalog.SyncDevices] that must not be used.
type noDevices struct{ tb testing.TB }

func (d noDevices) Validate() error { d.tb.Error("Validate called"); return nil }
func (d noDevices) Size() int       { return 0 }
func (d noDevices) Plan(context.Context, bool) error {
	d.tb.Error("Plan called")
	return nil
}
func (d noDevices) Write(context.Context, time.Time) error { d.tb.Error("Write called"); return nil }
