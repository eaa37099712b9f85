package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// catalogTimeout is how soon another instance must see a write: the change
// channel's job, well before the 2 s version poll would.
const catalogTimeout = time.Second

func TestFindCached(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	for _, q := range []recipes.Query{
		{},
		{Category: "soups", Limit: 20},
		{Category: "soups", RecipeID: "tomato-soup"},
	} {
		t.Run(q.Kind(), func(t *testing.T) {
			if _, err := s.FindCached(q); !errors.Is(err, recipes.ErrUncached) {
				t.Fatalf("cold FindCached err = %v, want ErrUncached", err)
			}
			want := mustFind(t, s, q)
			got, err := s.FindCached(q)
			if err != nil {
				t.Fatalf("warm FindCached: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("FindCached differs from Find (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("UnknownCategoryFromMemory", func(t *testing.T) {
		_, err := s.FindCached(recipes.Query{Category: "nope", Limit: 20})
		assertCode(t, err, recipes.ENOTFOUND, `category "nope" not found`)
		_, err = s.FindCached(recipes.Query{Category: "nope", RecipeID: "x"})
		assertCode(t, err, recipes.ENOTFOUND, `category "nope" not found`)
	})
	t.Run("UnknownRecipeFromList", func(t *testing.T) {
		_, err := s.FindCached(recipes.Query{Category: "soups", RecipeID: "nope"})
		assertCode(t, err, recipes.ENOTFOUND, `recipe "nope" not found in category "soups"`)
	})
}

func TestFind_WriteInvalidates(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	ctx := context.Background()
	list := recipes.Query{Category: "soups", Limit: 20}
	one := recipes.Query{Category: "soups", RecipeID: "tomato-soup"}
	cats := recipes.Query{}
	for _, q := range []recipes.Query{list, one, cats} {
		mustFind(t, s, q)
	}
	tests := []struct {
		name  string
		write func() error
		check func(t *testing.T)
	}{
		{"PutRecipe", func() error {
			return s.PutRecipe(ctx, recipe("tomato-soup", "soups", "Tomato Soup", withServings(6)))
		}, func(t *testing.T) {
			if got := decode[recipes.Recipe](t, mustFind(t, s, one)).Servings; got != 6 {
				t.Fatalf("Servings = %d, want 6", got)
			}
		}},
		{"NewRecipe", func() error {
			return s.PutRecipe(ctx, recipe("aaa", "soups", "AAA"))
		}, func(t *testing.T) {
			if got := ids(decode[listData](t, mustFind(t, s, list)).Items)[0]; got != "aaa" {
				t.Fatalf("first = %q, want aaa", got)
			}
		}},
		{"DeleteRecipe", func() error {
			return s.DeleteRecipe(ctx, "tomato-soup")
		}, func(t *testing.T) {
			_, err := s.Find(ctx, one)
			assertCode(t, err, recipes.ENOTFOUND, "")
		}},
		{"PutCategory", func() error {
			return s.PutCategory(ctx, category("desserts", 0))
		}, func(t *testing.T) {
			if n := len(decode[categoryData](t, mustFind(t, s, cats)).Items); n != 3 {
				t.Fatalf("%d categories, want 3", n)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.write(); err != nil {
				t.Fatal(err)
			}
			tt.check(t)
		})
	}
}

func TestFind_OtherInstanceInvalidates(t *testing.T) {
	env := newEnv(t)
	s1 := env.Open(t)
	// s1 seeds, so that its cache is not still being invalidated by the
	// announcements of the seeding when the test starts.
	seedSoups(t, s1)
	s2 := env.Open(t)
	ctx := context.Background()
	one := recipes.Query{Category: "soups", RecipeID: "tomato-soup"}
	cats := recipes.Query{}
	list := recipes.Query{Category: "soups", Limit: 20}
	for _, s := range []*catalog.Store{s1, s2} {
		for _, q := range []recipes.Query{one, cats, list} {
			mustFind(t, s, q)
		}
	}
	for _, q := range []recipes.Query{one, cats, list} {
		if _, err := s1.FindCached(q); err != nil {
			t.Fatalf("s1 cache not warm for %+v: %v", q, err)
		}
	}

	start := time.Now()
	mustPutRecipe(t, s2, recipe("tomato-soup", "soups", "Tomato Soup", withServings(7)))
	mustPutCategory(t, s2, category("desserts", 9))
	eventually(t, catalogTimeout, "s1 sees s2's writes", func() bool {
		return decode[recipes.Recipe](t, mustFind(t, s1, one)).Servings == 7 &&
			len(decode[categoryData](t, mustFind(t, s1, cats)).Items) == 3
	})
	t.Logf("s1 saw s2's writes after %v", time.Since(start))

	start = time.Now()
	if err := s1.DeleteRecipe(ctx, "apple-soup"); err != nil {
		t.Fatal(err)
	}
	eventually(t, catalogTimeout, "s2 sees s1's deletion", func() bool {
		return len(decode[listData](t, mustFind(t, s2, list)).Items) == 4
	})
	t.Logf("s2 saw s1's write after %v", time.Since(start))
}

func TestFind_SmallCache(t *testing.T) {
	env := newEnv(t)
	s := mustOpen(t, env.URL, catalog.Options{KeyPrefix: env.Prefix, CacheSize: 3})
	mustPutCategory(t, s, category("soups", 0))
	for i := range 10 {
		mustPutRecipe(t, s, recipe(fmt.Sprintf("r%d", i), "soups", fmt.Sprintf("R %d", i), withServings(i+1)))
	}
	for round := range 3 {
		for i := range 10 {
			doc := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: fmt.Sprintf("r%d", i)})
			if got := decode[recipes.Recipe](t, doc).Servings; got != i+1 {
				t.Fatalf("round %d: r%d Servings = %d, want %d", round, i, got, i+1)
			}
		}
	}
}

func TestFind_Concurrent(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	ctx := context.Background()
	done := make(chan struct{})
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				q := []recipes.Query{{}, {Category: "soups", Limit: 3}, {Category: "soups", RecipeID: "tomato-soup"}}[(i+w)%3]
				if _, err := s.Find(ctx, q); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 20 {
		mustPutRecipe(t, s, recipe("tomato-soup", "soups", "Tomato Soup", withServings(i%10+1)))
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := decode[recipes.Recipe](t, mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato-soup"})).Servings; got != 19%10+1 {
		t.Fatalf("Servings = %d after the last write, want %d", got, 19%10+1)
	}
}
