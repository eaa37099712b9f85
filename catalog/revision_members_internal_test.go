package catalog

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// changedMembers finds members by their bytes, without decoding; it
// names the same members as decoding both into maps does, for JSON as
// the store writes it and for JSON it never writes.
func TestChangedMembersAsDecoding(t *testing.T) {
	temp := 90
	base := recipes.Recipe{
		ID: "soup", Category: "soups", Title: "Soup", Servings: 2, TotalMinutes: 20, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "salt", Quantity: 1.5, Unit: "g"}}, Steps: []recipes.Step{{Text: `Boil "hard", {stir}`, TemperatureC: &temp}},
		Tags: []string{"warm"}, UpdatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Translations: map[string]recipes.RecipeText{"de": {Title: "Suppe"}, "fr": {Title: "Soupe", Steps: []string{"Bouillir"}}},
	}
	variants := map[string]func(r *recipes.Recipe){
		"same":                  func(r *recipes.Recipe) {},
		"updated_at":            func(r *recipes.Recipe) { r.UpdatedAt = r.UpdatedAt.Add(time.Second) },
		"title and servings":    func(r *recipes.Recipe) { r.Title, r.Servings = "Soup!", 3 },
		"quantity":              func(r *recipes.Recipe) { r.Ingredients[0].Quantity = 2 },
		"no tags":               func(r *recipes.Recipe) { r.Tags = nil },
		"one translation":       func(r *recipes.Recipe) { r.Translations["de"] = recipes.RecipeText{Title: "Brühe"} },
		"a translation more":    func(r *recipes.Recipe) { r.Translations["it"] = recipes.RecipeText{Title: "Zuppa"} },
		"no translations":       func(r *recipes.Recipe) { r.Translations = nil },
		"a quote in the title":  func(r *recipes.Recipe) { r.Title = `So"up},{"x":1` },
		"backslashes":           func(r *recipes.Recipe) { r.Title, r.Summary = `C:\`, `\"}\\` },
		"temperature gone":      func(r *recipes.Recipe) { r.Steps[0].TemperatureC = nil },
		"everything but the id": func(r *recipes.Recipe) { *r = recipes.Recipe{ID: r.ID} },
	}
	encode := func(f func(r *recipes.Recipe)) []byte {
		r := base
		r.Ingredients = append([]recipes.Ingredient(nil), base.Ingredients...)
		r.Steps = append([]recipes.Step(nil), base.Steps...)
		r.Translations = map[string]recipes.RecipeText{"de": base.Translations["de"], "fr": base.Translations["fr"]}
		f(&r)
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var docs [][]byte
	for _, f := range variants {
		docs = append(docs, encode(f))
	}
	// JSON the store never writes: spaced out, keys escaped or not ASCII,
	// given twice, translations not an object, not JSON at all.
	docs = append(docs,
		[]byte(" {\n \"title\" : \"Soup\" ,\t\"servings\": 2 , \"translations\": {\"de\" : {\"title\":\"Suppe\"} } }\n"),
		[]byte(`{"titl\u0065":"Soup","servings":2}`),
		[]byte(`{"titlé":"Soup","servings":2}`),
		[]byte(`{"title":"Soup","title":"Soupe","servings":2.50e1}`),
		[]byte(`{"title":"Soup","translations":null}`),
		[]byte(`{"title":"Soup","translations":"de"}`),
		[]byte(`{"title":"Soup","translations":{"de":{"title":"Suppe"},"de":{"title":"Brühe"}}}`),
		[]byte(`["not", "an", "object"]`),
		[]byte(`{"title":"Soup"`),
		[]byte(`{}`),
	)
	for _, a := range docs {
		for _, b := range docs {
			got, want := changedMembers(a, b), changedMembersDecoded(a, b)
			if json.Valid(b) {
				if from := changedFrom(a, b); fmt.Sprint(from) != fmt.Sprint(want) || (from == nil) != (want == nil) {
					t.Errorf("changedFrom(%s, %s) = %q; decoding gives %q", a, b, from, want)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) || (got == nil) != (want == nil) {
				t.Errorf("changedMembers(%s, %s) = %q; decoding gives %q", a, b, got, want)
			}
		}
	}
}

// A seed that changes 100,000 recipes names the changed members of each:
// finding them must not decode the two copies (which allocated a map and
// a copy of every member of both).
func TestChangedMembersDoesNotDecode(t *testing.T) {
	r := recipes.Recipe{
		ID: "soup", Category: "soups", Title: "Soup", Servings: 2, TotalMinutes: 20, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "salt", Quantity: 1, Unit: "g"}, {Name: "water", Quantity: 1, Unit: "l"}},
		Steps:       []recipes.Step{{Text: "Boil"}, {Text: "Serve"}}, Tags: []string{"warm"},
		Translations: map[string]recipes.RecipeText{"de": {Title: "Suppe", Steps: []string{"Kochen", "Servieren"}}, "fr": {Title: "Soupe"}},
	}
	a, _ := json.Marshal(r)
	r.Title = "New soup"
	r.Translations["de"] = recipes.RecipeText{Title: "Neue Suppe"}
	b, _ := json.Marshal(r)
	if got := changedMembers(a, b); fmt.Sprint(got) != "[title translations.de]" {
		t.Fatalf("changedMembers = %q", got)
	}
	// The names returned and the slice holding them (4; a few more
	// under the race detector); decoding made 115.
	if n := testing.AllocsPerRun(20, func() { changedMembers(a, b) }); n > 10 {
		t.Errorf("changedMembers allocates %v times", n)
	}
}
