package recipes

import (
	"slices"
	"strings"
	"testing"
)

func translatedRecipe() Recipe {
	temp := 90
	return Recipe{
		ID: "soup", Category: "soups", Title: "Soup", Servings: 2, TotalMinutes: 20, Difficulty: Easy,
		Models: []string{Models[0]}, Tags: []string{"warm", "quick"},
		Ingredients: []Ingredient{{Name: "salt", Quantity: 1, Unit: "g"}, {Name: "water", Quantity: 1, Unit: "l"}},
		Steps:       []Step{{Text: "Boil", Minutes: 3, TemperatureC: &temp}, {Text: "Serve"}},
		Translations: map[string]RecipeText{
			"de": {Title: "Suppe", Summary: "Warm", Ingredients: []string{"Salz", "Wasser"}, Steps: []string{"Kochen", "Servieren"}},
			"fr": {Title: "Soupe", Ingredients: []string{"sel", "eau"}, Steps: []string{"Bouillir", "Servir"}},
		},
	}
}

// A valid recipe, translated, is checked without allocating: a seed
// validates every one of 100,000 recipes twice, and making the name of
// every field it checks used to cost more than the checks.
func TestValidRecipeValidatesWithoutAllocating(t *testing.T) {
	r := translatedRecipe()
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	c := Category{Slug: "soups", Name: "Soups", Translations: map[string]CategoryText{"de": {Name: "Suppen"}, "fr": {Name: "Soupes"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, validate := range map[string]func() error{"recipe": r.Validate, "category": c.Validate} {
		if n := testing.AllocsPerRun(100, func() { _ = validate() }); n != 0 {
			t.Errorf("validating a valid %s allocates %v times", name, n)
		}
	}
}

// The names of fields with a problem are made only for a problem; they
// are what they were.
func TestValidationFieldNames(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(r *Recipe)
		want   []string
	}{
		{"ingredient name", func(r *Recipe) { r.Ingredients[1].Name = " " }, []string{"ingredients[1].name"}},
		{"ingredient quantity and unit", func(r *Recipe) { r.Ingredients[0].Quantity, r.Ingredients[0].Unit = -1, "bucket" },
			[]string{"ingredients[0].quantity", "ingredients[0].unit"}},
		{"step", func(r *Recipe) {
			bad := 9999
			r.Steps[1] = Step{Text: "a\x00b", Minutes: -1, TemperatureC: &bad, Speed: &bad}
		}, []string{"steps[1].text", "steps[1].minutes", "steps[1].temperature_c", "steps[1].speed"}},
		{"tags", func(r *Recipe) { r.Tags = []string{"ok", "Bad", ""} }, []string{"tags[1]", "tags[2]"}},
		{"translated texts", func(r *Recipe) {
			de := r.Translations["de"]
			de.Title, de.Summary, de.Ingredients, de.Steps = "", strings.Repeat("x", MaxSummaryLength+1), []string{"Salz", ""}, []string{"\xff", "ok"}
			r.Translations["de"] = de
		}, []string{"translations.de.title", "translations.de.summary", "translations.de.ingredients[1]", "translations.de.steps[0]"}},
		{"translated lists of the wrong length", func(r *Recipe) {
			r.Translations["fr"] = RecipeText{Title: "Soupe", Ingredients: []string{"sel"}, Steps: []string{"a", "b", "c"}}
		}, []string{"translations.fr.ingredients", "translations.fr.steps"}},
		{"tags of translations", func(r *Recipe) {
			r.Translations["de-at"] = RecipeText{Title: "Suppe"}
			r.Translations["xx-"] = RecipeText{Title: "?"}
		}, []string{"translations.de-at", "translations.xx-"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := translatedRecipe()
			r.Translations = map[string]RecipeText{"de": r.Translations["de"], "fr": r.Translations["fr"]}
			tt.break_(&r)
			var ve *ValidationError
			err := r.Validate()
			if !asValidation(err, &ve) {
				t.Fatalf("Validate() = %v; want a *ValidationError", err)
			}
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("fields with a problem: %q; want %q (%v)", got, tt.want, err)
			}
		})
	}
}

func asValidation(err error, ve **ValidationError) bool {
	v, ok := err.(*ValidationError)
	*ve = v
	return ok
}
