package embedded_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/recipes"
)

// These helpers run the catalog on the embedded store, as the server does,
// so that the store's tests cover the writes the server really makes.

// catalogStore is a catalog on an embedded store; Close closes both.
type catalogStore struct {
	*catalog.Store
	emb *embedded.Store
}

func (s catalogStore) Close() error { return errors.Join(s.Store.Close(), s.emb.Close()) }

// openCatalog opens a catalog on the embedded store in dir; close it
// yourself.
func openCatalog(dir string) (catalogStore, error) {
	ctx := context.Background()
	emb, err := embedded.Open(ctx, embedded.Options{Dir: dir, Logger: testLogger()})
	if err != nil {
		return catalogStore{}, err
	}
	s, err := catalog.Open(ctx, emb.Client(), catalog.Options{Logger: testLogger()})
	if err != nil {
		_ = emb.Close()
		return catalogStore{}, err
	}
	return catalogStore{s, emb}, nil
}

func mustOpenCatalog(tb testing.TB, dir string) catalogStore {
	tb.Helper()
	s, err := openCatalog(dir)
	if err != nil {
		tb.Fatalf("open %s: %v", dir, err)
	}
	return s
}

// testLogger discards logs unless CATALOG_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CATALOG_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func category(slug string) recipes.Category {
	return recipes.Category{Slug: slug, Name: "Name of " + slug}
}

func recipe(id, cat, title string) recipes.Recipe {
	return recipes.Recipe{
		ID: id, Category: cat, Title: title, Servings: 2, TotalMinutes: 30, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 500, Unit: "ml"}},
		Steps:       []recipes.Step{{Text: "Boil.", Minutes: 10}},
	}
}

// mustPublishCategory creates and publishes an empty category.
func mustPublishCategory(tb testing.TB, s catalogStore, slug string) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.CreateCategory(ctx, category(slug)); err != nil {
		tb.Fatalf("CreateCategory(%s): %v", slug, err)
	}
	if _, err := s.PublishCategory(ctx, slug); err != nil {
		tb.Fatalf("PublishCategory(%s): %v", slug, err)
	}
}

// mustPublishRecipe creates and publishes r.
func mustPublishRecipe(tb testing.TB, s catalogStore, r recipes.Recipe) {
	tb.Helper()
	ctx := context.Background()
	if _, err := s.CreateRecipe(ctx, r); err != nil {
		tb.Fatalf("CreateRecipe(%s): %v", r.ID, err)
	}
	if _, err := s.PublishRecipe(ctx, r.ID); err != nil {
		tb.Fatalf("PublishRecipe(%s): %v", r.ID, err)
	}
}

// seedSoups publishes two categories and a few recipes.
func seedSoups(tb testing.TB, s catalogStore) {
	tb.Helper()
	mustPublishCategory(tb, s, "soups")
	mustPublishCategory(tb, s, "salads")
	for _, r := range []recipes.Recipe{
		recipe("tomato-soup", "soups", "Tomato Soup"),
		recipe("apple-soup", "soups", "apple soup"),
		recipe("bean-stew", "soups", "Bean Stew"),
		recipe("greek-salad", "salads", "Greek Salad"),
	} {
		mustPublishRecipe(tb, s, r)
	}
}

// state is everything appliances and editors see, for comparing across
// restarts: the version, every published document with its ETag, and the
// editors' view of every category.
type state struct {
	Version int64
	Docs    map[string]recipes.Document
	Editor  map[string]recipes.RecipePage
}

func readState(tb testing.TB, s catalogStore) state {
	tb.Helper()
	ctx := context.Background()
	st := state{Docs: map[string]recipes.Document{}, Editor: map[string]recipes.RecipePage{}}
	var err error
	if st.Version, err = s.Version(ctx); err != nil {
		tb.Fatal(err)
	}
	find := func(q recipes.Query) recipes.Document {
		doc, err := s.Find(ctx, q)
		if err != nil {
			tb.Fatalf("Find(%+v): %v", q, err)
		}
		st.Docs[q.Category+"/"+q.RecipeID] = doc
		return doc
	}
	var cats struct{ Items []recipes.Category }
	if err := json.Unmarshal(find(recipes.Query{}).Data, &cats); err != nil {
		tb.Fatal(err)
	}
	for _, c := range cats.Items {
		var list struct{ Items []recipes.Summary }
		if err := json.Unmarshal(find(recipes.Query{Category: c.Slug, Limit: recipes.MaxLimit}).Data, &list); err != nil {
			tb.Fatal(err)
		}
		for _, sum := range list.Items {
			find(recipes.Query{Category: c.Slug, RecipeID: sum.ID})
		}
		if st.Editor[c.Slug], err = s.EditorRecipes(ctx, c.Slug, recipes.RecipeFilter{Limit: recipes.MaxLimit}); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}
