package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

func TestSync_Languages(t *testing.T) {
	ctx := context.Background()
	german := func(r *recipes.Recipe) {
		r.Translations = map[string]recipes.RecipeText{"de": {Title: "Tomatensuppe"}}
	}
	cats := []recipes.Category{category("soups", 0)}
	recs := []recipes.Recipe{recipe("tomato-soup", "soups", "Tomato Soup", german)}

	t.Run("DeclaresTheLanguagesTranslationsUse", func(t *testing.T) {
		s := newEnv(t).Open(t)
		// Without a declaration, translations must be to declared
		// languages, and none is declared yet.
		_, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{})
		if err == nil || !strings.Contains(err.Error(), `translations.de "de" is not one of the catalog's languages`) {
			t.Fatalf("Sync without languages = %v, want translations.de refused", err)
		}
		if v, _ := s.Version(ctx); v != 0 {
			t.Fatalf("a refused sync wrote: version %d", v)
		}
		changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Languages: &recipes.LanguagesDecl{}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(changes, func(c recipes.Change) bool { return c.Kind == catalog.KindLanguages && c.ID == "en,de" }) {
			t.Errorf("changes %+v lack the languages", changes)
		}
		if l, _ := s.Languages(ctx); l.Default != "en" || !slices.Equal(l.Others, []string{"de"}) {
			t.Fatalf("Languages() = %+v, want en with de", l)
		}
		doc := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato-soup", Languages: []string{"de-AT"}})
		if doc.Language != "de" || !strings.Contains(string(doc.Data), "Tomatensuppe") {
			t.Fatalf("served %s %s", doc.Language, doc.Data)
		}
		// The same seed again changes nothing.
		v, _ := s.Version(ctx)
		if changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Languages: &recipes.LanguagesDecl{}}); err != nil || len(changes) != 0 {
			t.Fatalf("second sync: %+v, %v", changes, err)
		}
		if v2, _ := s.Version(ctx); v2 != v {
			t.Fatalf("an unchanged sync moved the version %d -> %d", v, v2)
		}
		// Languages alone change: the version moves, so caches drop.
		if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Languages: &recipes.LanguagesDecl{Default: "en", Others: []string{"de", "fr"}, OthersGiven: true}}); err != nil {
			t.Fatal(err)
		}
		if v2, _ := s.Version(ctx); v2 == v {
			t.Fatal("changing the languages left the version")
		}
		if doc := mustFind(t, s, recipes.Query{Languages: []string{"fr"}}); doc.Language != "fr" {
			t.Fatalf("category list in fr: %s", doc.Language)
		}
	})

	t.Run("RefusesTranslationsOutsideGivenLanguages", func(t *testing.T) {
		s := newEnv(t).Open(t)
		for _, drafts := range []bool{false, true} {
			_, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Drafts: drafts, Languages: &recipes.LanguagesDecl{Others: []string{"fr"}, OthersGiven: true}})
			if err == nil || !strings.Contains(err.Error(), `translations.de "de" is not one of the catalog's languages (fr)`) {
				t.Fatalf("drafts %v: Sync = %v, want translations.de refused", drafts, err)
			}
			_, err = s.Sync(ctx, cats, recs, catalog.SyncOptions{Drafts: drafts, Languages: &recipes.LanguagesDecl{Default: "de"}})
			if err == nil || !strings.Contains(err.Error(), `translations.de "de" is the catalog's default language`) {
				t.Fatalf("drafts %v: Sync = %v, want translations.de to the default refused", drafts, err)
			}
		}
		if l, _ := s.Languages(ctx); l.Default != "en" || len(l.Others) != 0 {
			t.Fatalf("refused syncs changed the languages to %+v", l)
		}
	})
}
