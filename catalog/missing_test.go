package catalog_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

func withTranslation(lang, title string) func(*recipes.Recipe) {
	return func(r *recipes.Recipe) {
		if r.Translations == nil {
			r.Translations = map[string]recipes.RecipeText{}
		}
		r.Translations[lang] = recipes.RecipeText{Title: title}
	}
}

// translatedStore holds, with de and fr declared: b (published, German),
// a (published; its draft adds German), c (published with French; its
// draft drops it) and d (a new draft, untranslated).
func translatedStore(t *testing.T) *catalog.Store {
	t.Helper()
	ctx := context.Background()
	s := MustOpenStore(t)
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de", "fr"}}); err != nil {
		t.Fatal(err)
	}
	mustPutCategory(t, s, category("soups", 0))
	mustPutRecipe(t, s,
		recipe("b", "soups", "Beta", withTranslation("de", "Beta de")),
		recipe("a", "soups", "Alpha"),
		recipe("c", "soups", "Gamma", withTranslation("fr", "Gamma fr")))
	for _, r := range []recipes.Recipe{
		recipe("a", "soups", "Alpha", withTranslation("de", "Alpha de")),
		recipe("c", "soups", "Gamma"),
	} {
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateRecipe(ctx, recipe("d", "soups", "delta")); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMissingTranslations(t *testing.T) {
	ctx := context.Background()
	s := translatedStore(t)
	ids := func(p recipes.RecipePage) string {
		var out []string
		for _, it := range p.Items {
			out = append(out, it.ID+":"+string(it.Status))
		}
		return strings.Join(out, " ")
	}
	tests := []struct {
		name          string
		lang          string
		offset, limit int
		want          string
		total         int
	}{
		{"German", "de", 0, 0, "d:unpublished c:changed", 2},
		// c's published copy is French, its draft is not: the editors' copy counts.
		{"French", "fr", 0, 0, "a:changed b:published d:unpublished c:changed", 4},
		{"Page", "fr", 1, 2, "b:published d:unpublished", 4},
		{"PastTheEnd", "fr", 9, 2, "", 4},
		{"Undeclared", "it", 0, 0, "a:changed b:published d:unpublished c:changed", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.MissingTranslations(ctx, tt.lang, tt.offset, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(p); got != tt.want || p.Total != tt.total {
				t.Errorf("MissingTranslations(%s) = %q (total %d), want %q (total %d)", tt.lang, got, p.Total, tt.want, tt.total)
			}
		})
	}
	p, _ := s.MissingTranslations(ctx, "de", 1, 1)
	if got := p.Items[0]; got.Title != "Gamma" || got.Category != "soups" {
		t.Errorf("item = %+v, want Gamma in soups", got)
	}
}

func TestCoverage(t *testing.T) {
	ctx := context.Background()
	s := translatedStore(t)
	if _, err := s.SetCategoryTranslation(ctx, "soups", "fr", &recipes.CategoryText{Name: "Soupes"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Coverage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := recipes.Coverage{Recipes: 4, Languages: map[string]recipes.LanguageCount{
		"de": {Translated: 2, Missing: 2, StoredRecipes: 2},
		"fr": {Translated: 0, Missing: 4, StoredRecipes: 1, StoredCategories: 1},
	}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Coverage (-want +got):\n%s", d)
	}
	if n := got.Of("it"); n.Missing != 4 || n.Translated != 0 {
		t.Errorf("Of(it) = %+v, want 4 missing", n)
	}
}

func TestSetLanguagesRemoval(t *testing.T) {
	ctx := context.Background()
	s := translatedStore(t)
	tests := []struct {
		name string
		l    recipes.Languages
		want string // "" for success
	}{
		// c's published copy still holds French though its draft does not.
		{"ErrConflictStored", recipes.Languages{Default: "en", Others: []string{"de"}},
			`Cannot stop offering "fr": 1 recipe and 0 categories still hold a translation to it`},
		{"ErrConflictDefault", recipes.Languages{Default: "de", Others: []string{"fr"}},
			`Cannot make the default "de": 2 recipes and 0 categories`},
		{"OKAdd", recipes.Languages{Default: "en", Others: []string{"de", "fr", "it"}}, ""},
		{"OKRemoveUnused", recipes.Languages{Default: "en", Others: []string{"de", "fr"}}, ""},
		{"OKRelabelDefault", recipes.Languages{Default: "en-GB", Others: []string{"de", "fr"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Languages(ctx)
			err := s.SetLanguages(ctx, tt.l)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if recipes.ErrorCode(err) != recipes.ECONFLICT || !strings.Contains(recipes.ErrorMessage(err), tt.want) {
				t.Fatalf("SetLanguages(%+v) = %v, want ECONFLICT %q", tt.l, err, tt.want)
			}
			if after, _ := s.Languages(ctx); !cmp.Equal(before, after) {
				t.Errorf("a refused change set %+v", after)
			}
		})
	}
}

func TestSetCategoryTranslation(t *testing.T) {
	ctx := context.Background()
	s := translatedStore(t)
	t.Run("OK", func(t *testing.T) {
		c, err := s.SetCategoryTranslation(ctx, "soups", "de", &recipes.CategoryText{Name: "Suppen", Description: "Heiß."})
		if err != nil {
			t.Fatal(err)
		}
		ci, err := s.EditorCategory(ctx, "soups")
		if err != nil {
			t.Fatal(err)
		}
		if ci.Status != recipes.Changed || ci.Translations["de"].Name != "Suppen" || c.Translations["de"].Description != "Heiß." {
			t.Fatalf("editors' copy = %+v (%s)", ci.Category, ci.Status)
		}
		// Removing it again gives the published category back: no draft.
		if _, err := s.SetCategoryTranslation(ctx, "soups", "de", nil); err != nil {
			t.Fatal(err)
		}
		if ci, _ := s.EditorCategory(ctx, "soups"); ci.Status != recipes.Published || ci.Translations != nil {
			t.Fatalf("after removal: %+v (%s)", ci.Category, ci.Status)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for lang, want := range map[string]string{
			"it": `"it" is not one of the catalog's languages to translate to (de, fr)`,
			"en": `"en" is not one of the catalog's languages`,
		} {
			_, err := s.SetCategoryTranslation(ctx, "soups", lang, &recipes.CategoryText{Name: "X"})
			if err == nil || !strings.Contains(err.Error(), "translations."+lang) || !strings.Contains(err.Error(), want) {
				t.Errorf("SetCategoryTranslation(%s) = %v, want %q", lang, err, want)
			}
		}
		_, err := s.SetCategoryTranslation(ctx, "soups", "de", &recipes.CategoryText{})
		if err == nil || !strings.Contains(err.Error(), "translations.de.name") {
			t.Errorf("empty name: %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := s.SetCategoryTranslation(ctx, "nope", "de", &recipes.CategoryText{Name: "X"})
		assertCode(t, err, recipes.ENOTFOUND, "")
	})
}

// BenchmarkMissingTranslations lists the recipes missing German in a
// catalog of BENCH_RECIPES recipes (default 10,000) translated to German
// and French; every tenth has a draft, and a third lack German.
func BenchmarkMissingTranslations(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("BENCH_RECIPES")); err == nil {
		n = v
	}
	ctx := context.Background()
	env := newEnv(b)
	s := mustOpen(b, env.URL, catalog.Options{KeyPrefix: env.Prefix, Timeout: time.Minute})
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de", "fr"}}); err != nil {
		b.Fatal(err)
	}
	cats, recs := benchCatalog(n, "")
	for i := range recs {
		r := &recs[i]
		r.Translations = map[string]recipes.RecipeText{"fr": {Title: "Recette " + r.ID}}
		if i%3 != 0 {
			r.Translations["de"] = recipes.RecipeText{Title: "Rezept " + r.ID}
		}
	}
	if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err != nil {
		b.Fatal(err)
	}
	var drafts []recipes.Recipe
	for i := 0; i < n; i += 10 {
		r := recs[i]
		r.Title = "Changed " + r.Title
		drafts = append(drafts, r)
	}
	if _, err := s.Sync(ctx, nil, drafts, catalog.SyncOptions{Drafts: true}); err != nil {
		b.Fatal(err)
	}
	b.Run("Missing", func(b *testing.B) {
		for b.Loop() {
			p, err := s.MissingTranslations(ctx, "de", 0, 50)
			if err != nil || p.Total != (n+2)/3 {
				b.Fatalf("total %d, %v; want %d", p.Total, err, (n+2)/3)
			}
		}
	})
	b.Run("Coverage", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.Coverage(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
