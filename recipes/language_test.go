package recipes

import (
	"slices"
	"strings"
	"testing"
)

func TestParseLanguage(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "de", want: "de"},
		{in: "de-at", want: "de-AT"},
		{in: "fr-CA", want: "fr-CA"},
		{in: "zh-hant-tw", want: "zh-Hant-TW"},
		{in: "", err: "empty"},
		{in: "german", err: "not a BCP 47"},
		{in: "und", err: "names no language"},
		{in: "*", err: "not a BCP 47"},
	} {
		got, err := ParseLanguage(tc.in)
		if tc.err != "" {
			if err == nil || !contains(err.Error(), tc.err) {
				t.Errorf("ParseLanguage(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseLanguage(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestPickLanguage(t *testing.T) {
	have := func(tags ...string) func(string) bool {
		return func(t string) bool { return slices.Contains(tags, t) }
	}
	for _, tc := range []struct {
		name string
		want []string
		has  func(string) bool
		def  string
		pick string
	}{
		{"exact", []string{"de-AT"}, have("de-AT", "de"), "en", "de-AT"},
		{"region falls back to language", []string{"de-AT"}, have("de"), "en", "de"},
		{"language falls back to default", []string{"de-AT"}, have("fr"), "en", "en"},
		{"second choice", []string{"it", "fr-CA"}, have("fr"), "en", "fr"},
		{"default before a later choice", []string{"en-GB", "de"}, have("de"), "en", "en"},
		{"nothing wanted", nil, have("de"), "en", "en"},
		{"script", []string{"zh-Hant-TW"}, have("zh-Hant"), "en", "zh-Hant"},
	} {
		if got := PickLanguage(tc.want, tc.has, tc.def); got != tc.pick {
			t.Errorf("%s: PickLanguage(%q) = %q, want %q", tc.name, tc.want, got, tc.pick)
		}
	}
}

func TestParseAcceptLanguage(t *testing.T) {
	got, err := ParseAcceptLanguage("fr-CA, de;q=0.5, en;q=0.8, *;q=0.1")
	if err != nil || !slices.Equal(got, []string{"fr-CA", "en", "de"}) {
		t.Fatalf("got %q, %v", got, err)
	}
	if _, err := ParseAcceptLanguage("de;q=x"); err == nil {
		t.Fatal("a bad weight was accepted")
	}
}

func TestRecipeIn(t *testing.T) {
	r := Recipe{
		ID: "r", Title: "Soup", Ingredients: []Ingredient{{Name: "salt", Quantity: 1, Unit: "g"}},
		Steps: []Step{{Text: "Boil", Minutes: 3}},
		Translations: map[string]RecipeText{
			"de": {Title: "Suppe", Ingredients: []string{"Salz"}, Steps: []string{"Kochen"}},
		},
	}
	de, ok := r.In("de")
	if !ok || de.Title != "Suppe" || de.Ingredients[0].Name != "Salz" || de.Ingredients[0].Quantity != 1 ||
		de.Steps[0].Text != "Kochen" || de.Steps[0].Minutes != 3 || de.Translations != nil {
		t.Fatalf("In(de) = %+v, %v", de, ok)
	}
	if r.Ingredients[0].Name != "salt" || r.Steps[0].Text != "Boil" {
		t.Fatal("In changed the recipe it was called on")
	}
	if fr, ok := r.In("fr"); ok || fr.Title != "Soup" || fr.Translations != nil {
		t.Fatalf("In(fr) = %+v, %v", fr, ok)
	}
}

func TestRecipeTranslationProblems(t *testing.T) {
	r := Recipe{
		ID: "r", Category: "c", Title: "Soup", Servings: 1, TotalMinutes: 1, Difficulty: Easy,
		Ingredients: []Ingredient{{Name: "salt"}}, Steps: []Step{{Text: "Boil"}},
		Translations: map[string]RecipeText{
			"de-at": {Title: "Suppe"},
			"fr":    {Title: "", Steps: []string{"a", "b"}},
		},
	}
	err := r.Validate()
	for _, want := range []string{
		`translations.de-at write the language tag "de-at" as "de-AT"`,
		"translations.fr.title",
		"translations.fr.steps has 2 texts for 1 steps",
	} {
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("Validate() = %v; want a problem %q", err, want)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
