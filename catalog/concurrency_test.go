package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// concurrentStores opens, for each backend, one store that the writers of
// a test share: miniredis or the Redis at REDIS_URL, and the embedded
// store, whose writes also queue for its journal.
func concurrentStores(t *testing.T) map[string]*catalog.Store {
	t.Helper()
	env := newEnv(t)
	// Generous round trips: the race detector on a shared machine is slow,
	// and these tests are about conflicts, not timeouts.
	opts := catalog.Options{KeyPrefix: env.Prefix, Timeout: 5 * time.Second}
	emb, err := openEmbedded(t, t.TempDir(), catalog.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	backend := "miniredis"
	if env.MR == nil {
		backend = "redis"
	}
	return map[string]*catalog.Store{
		backend:    mustOpen(t, env.URL, opts),
		"embedded": emb.Store,
	}
}

// TestConcurrentWritersOfDifferentRecipes: editors who create, save and
// publish different recipes of one category at once never make each other
// retry, let alone fail.
func TestConcurrentWritersOfDifferentRecipes(t *testing.T) {
	const writers, each = 8, 100
	for name, s := range concurrentStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.CreateCategory(ctx, category("soups", 0)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PublishCategory(ctx, "soups"); err != nil {
				t.Fatal(err)
			}
			before := catalog.Conflicts(s)
			errs := make(chan error, writers*each)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					for i := range each {
						r := recipe(fmt.Sprintf("w%d-r%03d", w, i), "soups", fmt.Sprintf("Soup %d of writer %d", i, w))
						if _, err := s.CreateRecipe(ctx, r); err != nil {
							errs <- fmt.Errorf("create %s: %w", r.ID, err)
							continue
						}
						if i%10 != 0 {
							continue
						}
						// Some are edited and published too.
						r.Servings = 4
						if _, err := s.SaveRecipe(ctx, r); err != nil {
							errs <- fmt.Errorf("save %s: %w", r.ID, err)
						}
						if _, err := s.PublishRecipe(ctx, r.ID); err != nil {
							errs <- fmt.Errorf("publish %s: %w", r.ID, err)
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("%v (code %s)", err, recipes.ErrorCode(err))
			}
			if n := catalog.Conflicts(s) - before; n != 0 {
				t.Errorf("%d EXECs aborted by writers of other recipes; want 0", n)
			}
			info, err := s.EditorCategory(ctx, "soups")
			if err != nil {
				t.Fatal(err)
			}
			if info.Recipes != writers*each {
				t.Errorf("soups holds %d recipes; want %d", info.Recipes, writers*each)
			}
			page := mustFind(t, s, recipes.Query{Category: "soups", Limit: 100})
			if got := len(decode[listData](t, page).Items); got != writers*each/10 {
				t.Errorf("appliances see %d published soups; want %d", got, writers*each/10)
			}
		})
	}
}

// TestConcurrentWritersOfOneRecipe: a true conflict is still one. Two
// creates of one id: exactly one wins, the other is told the id is taken;
// and editors saving one draft at once either win or get ECONFLICT, and
// the draft ends up as one of them saved it, never a mix.
func TestConcurrentWritersOfOneRecipe(t *testing.T) {
	for name, s := range concurrentStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.CreateCategory(ctx, category("soups", 0)); err != nil {
				t.Fatal(err)
			}
			const writers = 8
			var wg sync.WaitGroup
			results := make([]error, writers)
			for w := range writers {
				wg.Go(func() {
					_, results[w] = s.CreateRecipe(ctx, recipe("same", "soups", fmt.Sprintf("Writer %d", w)))
				})
			}
			wg.Wait()
			won := 0
			for w, err := range results {
				var verr *recipes.ValidationError
				switch {
				case err == nil:
					won++
				case errors.As(err, &verr) && len(verr.Fields) == 1 && verr.Fields[0].Field == "id":
				default:
					t.Errorf("create by writer %d = %v; want success or the id taken", w, err)
				}
			}
			if won != 1 {
				t.Fatalf("%d creates of one id succeeded; want 1", won)
			}
		})
	}
}

// TestCreateRecipeRacesCategoryRemoval: creating a recipe no longer
// WATCHes the category hashes, so the category's removal counter must
// keep a recipe from being filed under a category removed meanwhile:
// either the create wins and the removal is refused, or the removal wins
// and the create is told the category does not exist.
func TestCreateRecipeRacesCategoryRemoval(t *testing.T) {
	for name, s := range concurrentStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for i := range 40 {
				slug := fmt.Sprintf("cat-%02d", i)
				if _, err := s.CreateCategory(ctx, category(slug, 0)); err != nil {
					t.Fatal(err)
				}
				var createErr, removeErr error
				var wg sync.WaitGroup
				wg.Go(func() { _, createErr = s.CreateRecipe(ctx, recipe("r-"+slug, slug, "Recipe")) })
				wg.Go(func() { _, removeErr = s.RemoveCategory(ctx, slug, recipes.CategoryRemoval{}) })
				wg.Wait()
				switch {
				case createErr == nil && recipes.ErrorCode(removeErr) == recipes.ECONFLICT:
				case removeErr == nil && recipes.ErrorCode(createErr) == recipes.EINVALID:
				default:
					t.Fatalf("%s: create = %v, remove = %v; want exactly one to win", slug, createErr, removeErr)
				}
				_, _, err := s.EditorRecipe(ctx, "r-"+slug)
				if _, cerr := s.EditorCategory(ctx, slug); (err == nil) != (cerr == nil) {
					t.Fatalf("%s: recipe %v, category %v; a recipe must not outlive its category", slug, err, cerr)
				}
			}
		})
	}
}
