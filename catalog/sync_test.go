package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// syncFixture is a small catalog: soups and salads, ten recipes each.
func syncFixture() ([]recipes.Category, []recipes.Recipe) {
	cats := []recipes.Category{category("soups", 1), category("salads", 2)}
	var recs []recipes.Recipe
	for i := range 20 {
		recs = append(recs, recipe(fmt.Sprintf("r-%02d", i), cats[i%2].Slug, fmt.Sprintf("Recipe %02d", i)))
	}
	return cats, recs
}

func mustSync(tb testing.TB, s *catalog.Store, cats []recipes.Category, recs []recipes.Recipe, prune bool) []recipes.Change {
	tb.Helper()
	changes, err := s.Sync(context.Background(), cats, recs, catalog.SyncOptions{Prune: prune})
	if err != nil {
		tb.Fatalf("Sync: %v", err)
	}
	return changes
}

// count returns how many changes of kind have op.
func count(changes []recipes.Change, kind string, op recipes.ChangeOp) int {
	n := 0
	for _, ch := range changes {
		if ch.Kind == kind && ch.Op == op {
			n++
		}
	}
	return n
}

func TestSync(t *testing.T) {
	ctx := context.Background()
	cats, recs := syncFixture()

	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		v0 := mustVersion(t, s)
		changes := mustSync(t, s, cats, recs, false)
		if got := count(changes, "recipe", recipes.ItemAdded); got != 20 {
			t.Errorf("%d recipes added, want 20: %v", got, changes)
		}
		if got := count(changes, "category", recipes.ItemAdded); got != 2 {
			t.Errorf("%d categories added, want 2", got)
		}
		if v := mustVersion(t, s); v != v0+1 {
			t.Fatalf("version %d -> %d, want one bump", v0, v)
		}
		assertList(t, s, "salads", "r-01", "r-03", "r-05", "r-07", "r-09", "r-11", "r-13", "r-15", "r-17", "r-19")
		got, err := s.Recipe(ctx, "r-04")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(recs[4], got, ignoreUpdated); diff != "" || got.UpdatedAt.IsZero() {
			t.Fatalf("(-want +got):\n%s\nUpdatedAt %v", diff, got.UpdatedAt)
		}
		sums, err := s.RecipesIn(ctx, "soups")
		if err != nil || len(sums) != 10 || !sums[0].UpdatedAt.Equal(got.UpdatedAt) {
			t.Fatalf("RecipesIn(soups) = %+v, %v; want 10 summaries stamped like their recipes", sums, err)
		}
		c, err := s.Category(ctx, "salads")
		if err != nil || c.Position != 2 || c.UpdatedAt.IsZero() {
			t.Fatalf("Category(salads) = %+v, %v", c, err)
		}
	})

	// Seeding the same catalog again writes nothing: same version, same
	// UpdatedAt, same ETags.
	t.Run("OKIdempotent", func(t *testing.T) {
		s := MustOpenStore(t)
		mustSync(t, s, cats, recs, false)
		v0 := mustVersion(t, s)
		list := mustFind(t, s, recipes.Query{Category: "soups", Limit: 100})
		one := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "r-00"})
		if changes := mustSync(t, s, cats, recs, true); len(changes) != 0 {
			t.Fatalf("second Sync changed %v", changes)
		}
		if v := mustVersion(t, s); v != v0 {
			t.Fatalf("version %d -> %d, want none", v0, v)
		}
		if got := mustFind(t, s, recipes.Query{Category: "soups", Limit: 100}); got.ETag != list.ETag {
			t.Errorf("list ETag %s -> %s", list.ETag, got.ETag)
		}
		if got := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "r-00"}); got.ETag != one.ETag {
			t.Errorf("recipe ETag %s -> %s", one.ETag, got.ETag)
		}
	})

	t.Run("OKChanged", func(t *testing.T) {
		s := MustOpenStore(t)
		mustSync(t, s, cats, recs, false)
		before, err := s.Recipe(ctx, "r-02")
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // a new UpdatedAt must differ
		v0 := mustVersion(t, s)
		cats2, recs2 := syncFixture()
		cats2[1].Position = 0                                         // salads first
		recs2[0].Title = "Zuppa"                                      // renamed: moves to the end of soups
		recs2[1].Category = "soups"                                   // moved from salads
		recs2 = append(recs2, recipe("r-new", "salads", "Brand new")) // added

		changes := mustSync(t, s, cats2, recs2, false)
		want := []recipes.Change{
			{Op: recipes.ItemChanged, Kind: "category", ID: "salads", Category: "salads"},
			{Op: recipes.ItemAdded, Kind: "recipe", ID: "r-new", Category: "salads"},
			{Op: recipes.ItemChanged, Kind: "recipe", ID: "r-00", Category: "soups"},
			{Op: recipes.ItemChanged, Kind: "recipe", ID: "r-01", Category: "soups", From: "salads"},
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Fatalf("changes (-want +got):\n%s", diff)
		}
		if v := mustVersion(t, s); v != v0+1 {
			t.Fatalf("version %d -> %d, want one bump", v0, v)
		}
		assertList(t, s, "soups", "r-01", "r-02", "r-04", "r-06", "r-08", "r-10", "r-12", "r-14", "r-16", "r-18", "r-00")
		assertList(t, s, "salads", "r-new", "r-03", "r-05", "r-07", "r-09", "r-11", "r-13", "r-15", "r-17", "r-19")
		if after, err := s.Recipe(ctx, "r-02"); err != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("unchanged r-02 UpdatedAt %v -> %v (%v)", before.UpdatedAt, after.UpdatedAt, err)
		}
		if r, err := s.Recipe(ctx, "r-00"); err != nil || !r.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("changed r-00 UpdatedAt %v, want after %v (%v)", r.UpdatedAt, before.UpdatedAt, err)
		}
		cs, err := s.Categories(ctx)
		if err != nil || len(cs) != 2 || cs[0].Slug != "salads" {
			t.Errorf("Categories = %+v, %v; want salads first", cs, err)
		}
	})

	t.Run("OKPrune", func(t *testing.T) {
		env := newEnv(t)
		s := env.Open(t)
		mustPutCategory(t, s, category("drinks", 3))
		mustPutRecipe(t, s, recipe("tea", "drinks", "Tea"), recipe("old-soup", "drinks", "Old soup"))
		mustSync(t, s, cats, recs, false)
		keep := recipe("old-soup", "soups", "Old soup") // stays, moved into soups

		changes := mustSync(t, s, cats, append(slices.Clone(recs), keep), true)

		want := []recipes.Change{
			{Op: recipes.ItemChanged, Kind: "recipe", ID: "old-soup", Category: "soups", From: "drinks"},
			{Op: recipes.ItemRemoved, Kind: "recipe", ID: "tea", Category: "drinks"},
			{Op: recipes.ItemRemoved, Kind: "category", ID: "drinks", Category: "drinks"},
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Fatalf("changes (-want +got):\n%s", diff)
		}
		_, err := s.Recipe(ctx, "tea")
		assertCode(t, err, recipes.ENOTFOUND, `recipe "tea" not found`)
		_, err = s.Find(ctx, recipes.Query{Category: "drinks"})
		assertCode(t, err, recipes.ENOTFOUND, `category "drinks" not found`)
		// Nothing of drinks is left behind.
		for _, k := range []string{"pub:sums:drinks", "pub:idx:drinks", "pub:rcp:tea"} {
			if n, err := env.RDB.Exists(ctx, env.Key(k)).Result(); err != nil || n != 0 {
				t.Errorf("key %s still exists (%v)", k, err)
			}
		}
		if ok, err := env.RDB.HExists(ctx, env.Key("pub:rcpcat"), "tea").Result(); err != nil || ok {
			t.Errorf("rcpcat still lists tea (%v)", err)
		}
		if n, err := env.RDB.ZCard(ctx, env.Key("pub:catorder")).Result(); err != nil || n != 2 {
			t.Errorf("catorder has %d members, want 2 (%v)", n, err)
		}
	})

	// Without prune, what the input does not mention stays, and recipes may
	// use categories already stored.
	t.Run("OKStoredCategory", func(t *testing.T) {
		s := MustOpenStore(t)
		mustSync(t, s, cats, recs, false)
		changes := mustSync(t, s, nil, []recipes.Recipe{recipe("extra", "soups", "Extra")}, false)
		if len(changes) != 1 || changes[0].Op != recipes.ItemAdded {
			t.Fatalf("changes %v, want one added", changes)
		}
		if sums, err := s.RecipesIn(ctx, "soups"); err != nil || len(sums) != 11 {
			t.Fatalf("RecipesIn(soups) = %d, %v; want 11", len(sums), err)
		}
	})

	tests := []struct {
		name  string
		cats  []recipes.Category
		recs  []recipes.Recipe
		prune bool
		code  string
	}{
		{"ErrInvalidRecipe", cats, append(slices.Clone(recs), recipe("bad", "soups", "")), false, recipes.EINVALID},
		{"ErrInvalidCategory", append(slices.Clone(cats), recipes.Category{Slug: "x"}), recs, false, recipes.EINVALID},
		{"ErrUnknownCategory", cats, append(slices.Clone(recs), recipe("x", "desserts", "X")), false, recipes.EINVALID},
		// drinks is stored, but a prune removes what cats does not hold.
		{"ErrPruneStoredCategory", cats, []recipes.Recipe{recipe("tea", "drinks", "Tea")}, true, recipes.EINVALID},
		{"ErrDuplicate", cats, append(slices.Clone(recs), recs[0]), false, recipes.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			s := env.Open(t)
			mustPutCategory(t, s, category("drinks", 3))
			before := env.Snapshot(t)
			_, err := s.Sync(ctx, tt.cats, tt.recs, catalog.SyncOptions{Prune: tt.prune})
			assertCode(t, err, tt.code, "")
			if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
				t.Fatalf("a failed Sync changed the store (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	cats, recs := syncFixture()
	mustPutCategory(t, s, category("drinks", 3))
	mustPutRecipe(t, s, recipe("tea", "drinks", "Tea"))
	mustSync(t, s, cats, recs[:10], false)
	recs[0].Title = "Changed"
	before := env.Snapshot(t)

	plan, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Prune: true, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
		t.Fatalf("Plan changed the store (-before +after):\n%s", diff)
	}
	if got := [...]int{count(plan, "recipe", recipes.ItemAdded), count(plan, "recipe", recipes.ItemChanged), count(plan, "recipe", recipes.ItemRemoved), count(plan, "category", recipes.ItemRemoved)}; got != [...]int{10, 1, 1, 1} {
		t.Fatalf("plan added/changed/removed recipes, removed categories = %v, want [10 1 1 1]: %v", got, plan)
	}
	// Sync then does exactly what Plan said.
	if diff := cmp.Diff(plan, mustSync(t, s, cats, recs, true)); diff != "" {
		t.Fatalf("Sync differs from Plan (-plan +sync):\n%s", diff)
	}
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	t.Run("Empty", func(t *testing.T) {
		cats, recs, err := s.Export(ctx)
		if err != nil || len(cats) != 0 || len(recs) != 0 {
			t.Fatalf("Export = %v, %v, %v; want nothing", cats, recs, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		cats, recs := syncFixture()
		recs[3].Title = "A salad first"
		mustSync(t, s, cats, recs, false)

		gotCats, gotRecs, err := s.Export(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(cats, gotCats, cmpopts.IgnoreFields(recipes.Category{}, "UpdatedAt")); diff != "" {
			t.Errorf("categories (-want +got):\n%s", diff)
		}
		// Grouped by category in category order, each in list order.
		var want []string
		for _, c := range cats {
			sums, err := s.RecipesIn(ctx, c.Slug)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, ids(sums)...)
		}
		var got []string
		for _, r := range gotRecs {
			got = append(got, r.ID)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("recipe order (-want +got):\n%s", diff)
		}
		byID := make(map[string]recipes.Recipe)
		for _, r := range recs {
			byID[r.ID] = r
		}
		for _, r := range gotRecs {
			if diff := cmp.Diff(byID[r.ID], r, ignoreUpdated); diff != "" || r.UpdatedAt.IsZero() {
				t.Errorf("recipe %s (-want +got):\n%s", r.ID, diff)
			}
		}
		// Seeding the export back changes nothing.
		if changes := mustSync(t, s, gotCats, gotRecs, true); len(changes) != 0 {
			t.Errorf("seeding the export back changed %v", changes)
		}
	})
}

// TestSync_AtomicForReaders seeds a new version of every recipe of a big
// catalog while readers ask for lists and recipes through another store,
// as the server's responder does: every answer is wholly of the old
// catalog or wholly of the new, a reader that saw the new never sees the
// old again, and the catalog version moves once.
func TestSync_AtomicForReaders(t *testing.T) {
	n := 2000
	switch {
	case testing.Short():
		n = 500
	case os.Getenv("REDIS_URL") != "":
		n = 20000 // a longer write: more reads land in it
	}
	ctx := context.Background()
	env := newEnv(t)
	writer := mustOpen(t, env.URL, catalog.Options{KeyPrefix: env.Prefix, Timeout: 30 * time.Second})
	reader := mustOpen(t, env.URL, catalog.Options{KeyPrefix: env.Prefix, Timeout: 5 * time.Second})
	cats := []recipes.Category{category("soups", 1), category("salads", 2), category("bakes", 3)}
	version := func(tag string) []recipes.Recipe {
		recs := make([]recipes.Recipe, n)
		for i := range recs {
			recs[i] = recipe(fmt.Sprintf("r-%05d", i), cats[i%len(cats)].Slug, fmt.Sprintf("%s recipe %05d", tag, i), withTags(tag))
		}
		return recs
	}
	mustSync(t, writer, cats, version("old"), false)
	v0 := mustVersion(t, writer)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	versions := map[int64]bool{}
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sawNew := map[string]bool{} // by resource, through Find
			sawNewInRedis := false      // through reads that skip the cache
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				c := (g + i) % len(cats)
				slug := cats[c].Slug
				id := fmt.Sprintf("r-%05d", (g*97+i*31)%(n/len(cats))*len(cats)+c) // recipe i is in cats[i%len(cats)]
				var data []byte
				var key string
				switch i % 4 {
				case 0, 1:
					// Find answers from its cache when it can, which the
					// write invalidates: per resource, old then new.
					q := recipes.Query{Category: slug, Limit: 100}
					if i%4 == 1 {
						q.RecipeID = id
					}
					doc, err := reader.Find(ctx, q)
					if err != nil {
						fail("Find(%+v): %v", q, err)
						continue
					}
					data, key = doc.Data, slug+"/"+q.RecipeID
				case 2:
					sums, err := reader.RecipesIn(ctx, slug)
					if err != nil {
						fail("RecipesIn(%s): %v", slug, err)
						continue
					}
					data, _ = json.Marshal(sums)
				case 3:
					r, err := reader.Recipe(ctx, id)
					if err != nil {
						fail("Recipe(%s): %v", id, err)
						continue
					}
					data, _ = json.Marshal(r)
				}
				tags := map[string]bool{}
				for _, tag := range []string{"old", "new"} {
					if strings.Contains(string(data), `"tags":["`+tag+`"]`) {
						tags[tag] = true
					}
				}
				switch {
				case len(tags) != 1:
					fail("%s/%s: mixes old and new (or has neither): %.200s", slug, id, data)
				case key != "" && tags["new"]:
					sawNew[key] = true
				case key != "" && sawNew[key]:
					fail("Find(%s) went back to the old catalog", key)
				case key == "" && tags["new"]:
					sawNewInRedis = true
				case key == "" && sawNewInRedis:
					// Redis is linearizable: after one new answer, a torn
					// write would still show old data elsewhere.
					fail("%s/%s: old after new: the write was not atomic", slug, id)
				}
				if v, err := reader.Version(ctx); err == nil {
					mu.Lock()
					versions[v] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	changes := mustSync(t, writer, cats, version("new"), false)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()

	if len(failures) > 0 {
		t.Fatalf("readers saw:\n%s", strings.Join(failures, "\n"))
	}
	if got := count(changes, "recipe", recipes.ItemChanged); got != n {
		t.Fatalf("%d recipes changed, want %d", got, n)
	}
	if v := mustVersion(t, writer); v != v0+1 {
		t.Fatalf("version %d -> %d, want one bump", v0, v)
	}
	for v := range versions {
		if v != v0 && v != v0+1 {
			t.Fatalf("readers saw versions %v, want only %d and %d", slices.Sorted(maps.Keys(versions)), v0, v0+1)
		}
	}
	if !versions[v0+1] {
		t.Fatalf("readers never saw the new version (%v)", slices.Sorted(maps.Keys(versions)))
	}
}

func TestSync_Canceled(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	cats, recs := syncFixture()
	before := env.Snapshot(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err == nil || !errors.Is(err, context.Canceled) && recipes.ErrorCode(err) != recipes.EUNAVAILABLE {
		t.Fatalf("Sync on a canceled context = %v", err)
	}
	if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
		t.Fatalf("a canceled Sync changed the store:\n%s", diff)
	}
}

// TestSync_Drafts checks that a seed keeps editors' drafts where editors
// find them: a moved recipe's draft moves too, and a pruned category that
// still files drafts stays as an unpublished category.
func TestSync_Drafts(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	cats, recs := syncFixture()
	cats = append(cats, category("drinks", 3))
	mustSync(t, s, cats, recs, false)
	draft := recs[0] // a soup, with unpublished edits
	draft.Summary = "Edited by an editor."
	if _, err := s.SaveRecipe(ctx, draft); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRecipe(ctx, recipe("new-tea", "drinks", "New tea")); err != nil {
		t.Fatal(err)
	}

	recs[0].Category = "salads"
	changes := mustSync(t, s, cats[:2], recs, true)

	if count(changes, "category", recipes.ItemRemoved) != 1 {
		t.Fatalf("changes %v, want drinks removed", changes)
	}
	got, status, err := s.EditorRecipe(ctx, recs[0].ID)
	if err != nil || status != recipes.Changed || got.Category != "salads" || got.Summary != draft.Summary {
		t.Fatalf("EditorRecipe = %+v, %s, %v; want the draft, moved to salads", got, status, err)
	}
	page, err := s.EditorRecipes(ctx, "salads", recipes.RecipeFilter{Limit: 100})
	if err != nil || !slices.ContainsFunc(page.Items, func(ri recipes.RecipeInfo) bool { return ri.ID == recs[0].ID }) {
		t.Fatalf("EditorRecipes(salads) = %+v, %v; want the moved recipe", page, err)
	}
	drinks, err := s.EditorCategory(ctx, "drinks")
	if err != nil || drinks.Status != recipes.Unpublished {
		t.Fatalf("EditorCategory(drinks) = %+v, %v; want it kept, unpublished, for its draft", drinks, err)
	}
	_, err = s.Find(ctx, recipes.Query{Category: "drinks"})
	assertCode(t, err, recipes.ENOTFOUND, `category "drinks" not found`)
}

// TestSync_DraftsOfARecipeNamedLikeAPrunedCategory checks that a moved
// recipe's draft follows the recipe even when a category the sync prunes
// has the recipe's id as its slug.
func TestSync_DraftsOfARecipeNamedLikeAPrunedCategory(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	cats, recs := syncFixture()
	mustSync(t, s, append(cats, category(recs[0].ID, 3)), recs, false)
	draft := recs[0]
	draft.Summary = "Edited by an editor."
	if _, err := s.SaveRecipe(ctx, draft); err != nil {
		t.Fatal(err)
	}

	recs[0].Category = "salads"
	mustSync(t, s, cats, recs, true)

	got, status, err := s.EditorRecipe(ctx, recs[0].ID)
	if err != nil || status != recipes.Changed || got.Category != "salads" || got.Summary != draft.Summary {
		t.Fatalf("EditorRecipe = %+v, %s, %v; want the draft, moved to salads", got, status, err)
	}
}
