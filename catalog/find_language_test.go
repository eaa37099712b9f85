package catalog_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// seedGerman declares de and fr besides en and stores soups (translated
// to de) and salads (not), with recipes whose German titles sort in
// another order than their English ones.
func seedGerman(tb testing.TB, s *catalog.Store) {
	tb.Helper()
	if err := s.SetLanguages(context.Background(), recipes.Languages{Default: "en", Others: []string{"de", "fr"}}); err != nil {
		tb.Fatal(err)
	}
	soups := category("soups", 0)
	soups.Translations = map[string]recipes.CategoryText{"de": {Name: "Suppen", Description: "Heiß"}}
	mustPutCategory(tb, s, soups, category("salads", 1))
	german := func(title string) func(*recipes.Recipe) {
		return func(r *recipes.Recipe) {
			r.Translations = map[string]recipes.RecipeText{"de": {
				Title: title, Summary: "Auf Deutsch", Ingredients: []string{"Wasser"}, Steps: []string{"Kochen."},
			}}
		}
	}
	mustPutRecipe(tb, s,
		recipe("tomato-soup", "soups", "Tomato Soup", withTags("vegan"), german("Tomatensuppe")),
		recipe("zucchini-soup", "soups", "Zucchini Soup", german("Cremige Zucchinisuppe")),
		recipe("apple-soup", "soups", "Apple Soup", withTags("sweet")),
	)
}

// rawItems decodes a list's items as JSON objects, to see which members
// each carries.
func rawItems(tb testing.TB, doc recipes.Document) []map[string]any {
	tb.Helper()
	var v struct{ Items []map[string]any }
	if err := json.Unmarshal(doc.Data, &v); err != nil {
		tb.Fatalf("decode %s: %v", doc.Data, err)
	}
	return v.Items
}

func TestFind_Languages(t *testing.T) {
	env := newEnv(t)
	s := env.Open(t)
	seedGerman(t, s)
	deAT := []string{"de-AT"}

	t.Run("RecipeFallsBackToLanguage", func(t *testing.T) {
		for _, tc := range []struct {
			name, id  string
			want      []string
			lang      string
			title     string
			ingredent string
		}{
			{"de-AT->de", "tomato-soup", deAT, "de", "Tomatensuppe", "Wasser"},
			{"de-AT->default", "apple-soup", deAT, "en", "Apple Soup", "water"},
			{"none", "tomato-soup", nil, "en", "Tomato Soup", "water"},
			{"fr undeclared->default", "tomato-soup", []string{"fr-CA"}, "en", "Tomato Soup", "water"},
			{"first wanted that exists", "tomato-soup", []string{"it", "de-CH", "en"}, "de", "Tomatensuppe", "Wasser"},
			{"default before a later translation", "tomato-soup", []string{"en-GB", "de"}, "en", "Tomato Soup", "water"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := recipes.Query{Category: "soups", RecipeID: tc.id, Languages: tc.want}
				doc := mustFind(t, s, q)
				got := decode[recipes.Recipe](t, doc)
				if doc.Language != tc.lang || got.Title != tc.title || got.Ingredients[0].Name != tc.ingredent {
					t.Fatalf("Find(%s, %v) = %s %q %q; want %s %q %q", tc.id, tc.want, doc.Language, got.Title, got.Ingredients[0].Name, tc.lang, tc.title, tc.ingredent)
				}
				if strings.Contains(string(doc.Data), `"translations"`) {
					t.Fatalf("an appliance got the translations: %s", doc.Data)
				}
				assertETag(t, doc)
				cached, err := s.FindCached(q)
				if err != nil || cached.ETag != doc.ETag || cached.Language != doc.Language {
					t.Fatalf("FindCached = %s %s, %v; want what Find gave", cached.ETag, cached.Language, err)
				}
			})
		}
	})

	t.Run("RecipeIsWhatRecipeDocumentRenders", func(t *testing.T) {
		// The editors' preview renders with RecipeDocument: it must match
		// what appliances get, byte for byte, in every language.
		for _, id := range []string{"tomato-soup", "apple-soup"} {
			r, _, err := s.EditorRecipe(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			for _, lang := range []string{"en", "de"} {
				want, err := catalog.RecipeDocument(&r, lang, "en")
				if err != nil {
					t.Fatal(err)
				}
				got := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: id, Languages: []string{lang}})
				if got.ETag != want.ETag || got.Language != want.Language || string(got.Data) != string(want.Data) {
					t.Errorf("%s in %s: served %s %s %s\nrendered %s %s %s", id, lang, got.Language, got.ETag, got.Data, want.Language, want.ETag, want.Data)
				}
			}
		}
	})

	t.Run("ETagsDifferPerLanguageAndAreStable", func(t *testing.T) {
		s2 := env.Open(t)
		qs := map[string]recipes.Query{
			"categories": {},
			"list":       {Category: "soups", Limit: 20},
			"translated": {Category: "soups", RecipeID: "tomato-soup"},
		}
		for name, q := range qs {
			en := mustFind(t, s, q)
			q.Languages = deAT
			de := mustFind(t, s, q)
			if en.ETag == de.ETag {
				t.Errorf("%s: the same ETag %s in %s and %s", name, en.ETag, en.Language, de.Language)
			}
			if again := mustFind(t, s2, q); again.ETag != de.ETag {
				t.Errorf("%s: another store gives ETag %s, want %s", name, again.ETag, de.ETag)
			}
		}
		// An untranslated recipe asked for in German is the English one,
		// with the English tag: one copy for every language it lacks.
		q := recipes.Query{Category: "soups", RecipeID: "apple-soup"}
		en := mustFind(t, s, q)
		q.Languages = deAT
		if de := mustFind(t, s, q); de.ETag != en.ETag || de.Language != "en" {
			t.Errorf("apple-soup in de-AT: %s %s, want en %s", de.Language, de.ETag, en.ETag)
		}
	})

	t.Run("ListInLanguage", func(t *testing.T) {
		doc := mustFind(t, s, recipes.Query{Category: "soups", Limit: 20, Languages: deAT})
		if doc.Language != "de" {
			t.Fatalf("list Language = %q, want de", doc.Language)
		}
		assertETag(t, doc)
		items := rawItems(t, doc)
		var got [][2]any
		for _, it := range items {
			got = append(got, [2]any{it["title"], it["language"]})
			if _, ok := it["translations"]; ok {
				t.Errorf("item %v carries translations", it["id"])
			}
		}
		// Ordered by the German title; the untranslated item says it is
		// in English.
		want := [][2]any{{"Apple Soup", "en"}, {"Cremige Zucchinisuppe", nil}, {"Tomatensuppe", nil}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("German list (-want +got):\n%s", diff)
		}
		en := decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Limit: 20}))
		if diff := cmp.Diff([]string{"apple-soup", "tomato-soup", "zucchini-soup"}, ids(en.Items)); diff != "" {
			t.Fatalf("English list (-want +got):\n%s", diff)
		}
		if strings.Contains(string(mustFind(t, s, recipes.Query{Category: "soups", Limit: 20}).Data), `"translations"`) {
			t.Fatal("the English list carries translations")
		}
	})

	t.Run("SearchInLanguageServed", func(t *testing.T) {
		for _, tc := range []struct {
			text string
			want []string
			lang []string
		}{
			{"tomaten", []string{"tomato-soup"}, deAT},
			{"tomato", nil, deAT},
			{"tomato", []string{"tomato-soup"}, nil},
			{"tomaten", nil, nil},
			{"vegan", []string{"tomato-soup"}, deAT}, // tags are the same in every language
			{"apple", []string{"apple-soup"}, deAT},  // no translation: its own title
		} {
			doc := mustFind(t, s, recipes.Query{Category: "soups", Limit: 20, Text: tc.text, Languages: tc.lang})
			if got := ids(decode[listData](t, doc).Items); !cmp.Equal(got, tc.want, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })) {
				t.Errorf("q=%q in %v: %v, want %v", tc.text, tc.lang, got, tc.want)
			}
		}
	})

	t.Run("PagingInLanguage", func(t *testing.T) {
		q := recipes.Query{Category: "soups", Limit: 1, Languages: deAT}
		var got []string
		for range 5 {
			doc := mustFind(t, s, q)
			page := decode[listData](t, doc)
			got = append(got, ids(page.Items)...)
			if page.Next == nil || *page.Next == "" {
				break
			}
			q.Cursor = *page.Next
		}
		if diff := cmp.Diff([]string{"apple-soup", "zucchini-soup", "tomato-soup"}, got); diff != "" {
			t.Fatalf("German pages (-want +got):\n%s", diff)
		}
	})

	t.Run("CategoryList", func(t *testing.T) {
		doc := mustFind(t, s, recipes.Query{Languages: deAT})
		if doc.Language != "de" {
			t.Fatalf("Language = %q, want de", doc.Language)
		}
		assertETag(t, doc)
		var got [][3]any
		for _, it := range rawItems(t, doc) {
			got = append(got, [3]any{it["slug"], it["name"], it["language"]})
			if _, ok := it["translations"]; ok {
				t.Errorf("category %v carries translations", it["slug"])
			}
		}
		want := [][3]any{{"soups", "Suppen", nil}, {"salads", "Name of salads", "en"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("German category list (-want +got):\n%s", diff)
		}
		if en := mustFind(t, s, recipes.Query{}); en.Language != "en" || strings.Contains(string(en.Data), "Suppen") {
			t.Fatalf("English category list: %s %s", en.Language, en.Data)
		}
		cached, err := s.FindCached(recipes.Query{Languages: deAT})
		if err != nil || cached.ETag != doc.ETag {
			t.Fatalf("FindCached = %v, %v; want Find's", cached.ETag, err)
		}
	})

	t.Run("DroppedLanguageIsNoLongerServed", func(t *testing.T) {
		s := env.Open(t)
		q := recipes.Query{Category: "soups", RecipeID: "tomato-soup", Languages: deAT}
		if doc := mustFind(t, s, q); doc.Language != "de" {
			t.Fatalf("before: Language = %q, want de", doc.Language)
		}
		// SetLanguages refuses to drop a language still translated to;
		// a store changed by hand (or by an older release) may still
		// have done so, and must not serve it.
		rdb, err := redisconn.New(env.URL, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rdb.Close()
		if err := rdb.HSet(context.Background(), "{"+env.Prefix+"}:settings", "languages", "fr").Err(); err != nil {
			t.Fatal(err)
		}
		s = env.Open(t) // writes behind a store's back are not announced
		for name, q := range map[string]recipes.Query{"recipe": q, "list": {Category: "soups", Limit: 20, Languages: deAT}, "categories": {Languages: deAT}} {
			if doc := mustFind(t, s, q); doc.Language != "en" || strings.Contains(string(doc.Data), "Tomatensuppe") || strings.Contains(string(doc.Data), "Suppen") {
				t.Errorf("%s after de was dropped: %s %s", name, doc.Language, doc.Data)
			}
		}
	})
}

func TestWrite_RefusesUndeclaredTranslations(t *testing.T) {
	ctx := context.Background()
	s := newEnv(t).Open(t)
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de", "fr-CA"}}); err != nil {
		t.Fatal(err)
	}
	withText := func(tags ...string) func(*recipes.Recipe) {
		return func(r *recipes.Recipe) {
			r.Translations = map[string]recipes.RecipeText{}
			for _, tag := range tags {
				r.Translations[tag] = recipes.RecipeText{Title: "T " + tag}
			}
		}
	}
	if _, err := s.CreateCategory(ctx, category("soups", 0)); err != nil {
		t.Fatal(err)
	}
	undeclared := `translations.it "it" is not one of the catalog's languages (de, fr-CA)`
	isDefault := `translations.en "en" is the catalog's default language`
	for _, tc := range []struct {
		name  string
		write func() error
		want  []string
	}{
		{"CreateRecipe", func() error {
			_, err := s.CreateRecipe(ctx, recipe("soup", "soups", "Soup", withText("de", "it", "en")))
			return err
		}, []string{undeclared, isDefault}},
		{"SaveRecipe", func() error {
			if _, err := s.CreateRecipe(ctx, recipe("soup2", "soups", "Soup", withText("de"))); err != nil {
				return err
			}
			_, err := s.SaveRecipe(ctx, recipe("soup2", "soups", "Soup", withText("de", "it")))
			return err
		}, []string{undeclared}},
		{"CreateCategory", func() error {
			c := category("salads", 0)
			c.Translations = map[string]recipes.CategoryText{"it": {Name: "Insalate"}, "fr-CA": {Name: "Salades"}}
			_, err := s.CreateCategory(ctx, c)
			return err
		}, []string{undeclared}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			assertCode(t, err, recipes.EINVALID, "")
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "translations.de") || strings.Contains(err.Error(), "translations.fr-CA") {
				t.Errorf("error %q names a declared language", err)
			}
		})
	}
	// Nothing was written.
	if _, _, err := s.EditorRecipe(ctx, "soup"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Errorf("refused recipe exists: %v", err)
	}
	if r, _, err := s.EditorRecipe(ctx, "soup2"); err != nil || len(r.Translations) != 1 {
		t.Errorf("soup2 after a refused save: %+v, %v; want its de translation alone", r.Translations, err)
	}
	// Declared languages are accepted.
	if _, err := s.CreateRecipe(ctx, recipe("soup", "soups", "Soup", withText("de", "fr-CA"))); err != nil {
		t.Errorf("CreateRecipe with declared languages: %v", err)
	}
}
