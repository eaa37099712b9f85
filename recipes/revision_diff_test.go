package recipes

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDiffRecipes(t *testing.T) {
	t90 := 90
	a := Recipe{ID: "r", Category: "soups", Title: "Soup", Servings: 2,
		Ingredients:  []Ingredient{{Name: "water", Quantity: 1, Unit: "l"}, {Name: "salt"}, {Name: "leek", Quantity: 2}},
		Steps:        []Step{{Text: "Boil.", Minutes: 5, TemperatureC: &t90}, {Text: "Serve."}},
		Translations: map[string]RecipeText{"de": {Title: "Suppe"}}}
	b := a
	b.Title, b.Servings = "Leek soup", 4
	b.Ingredients = []Ingredient{{Name: "water", Quantity: 1.5, Unit: "l"}, {Name: "salt"}, {Name: "leek", Quantity: 2}, {Name: "pepper"}}
	b.Steps = []Step{{Text: "Boil.", Minutes: 5, TemperatureC: &t90}}
	b.Translations = map[string]RecipeText{"de": {Title: "Lauchsuppe"}, "fr": {Title: "Soupe"}}
	want := []FieldDiff{
		{Field: "title", Old: "Soup", New: "Leek soup"},
		{Field: "servings", Old: "2", New: "4"},
		{Field: "ingredients", Lines: []LineDiff{
			{Op: LineChanged, Old: "1 l water", New: "1.5 l water"},
			{Op: LineSame, Old: "salt (to taste)", New: "salt (to taste)"},
			{Op: LineSame, Old: "2 leek", New: "2 leek"},
			{Op: LineAdded, New: "pepper (to taste)"},
		}},
		{Field: "steps", Lines: []LineDiff{
			{Op: LineSame, Old: "Boil. (5 min, 90 °C)", New: "Boil. (5 min, 90 °C)"},
			{Op: LineRemoved, Old: "Serve."},
		}},
		{Field: "translations.de.title", Old: "Suppe", New: "Lauchsuppe"},
		{Field: "translations.fr.title", New: "Soupe"},
	}
	if diff := cmp.Diff(want, DiffRecipes(a, b)); diff != "" {
		t.Errorf("DiffRecipes (-want +got):\n%s", diff)
	}
	if got := DiffRecipes(a, a); got != nil {
		t.Errorf("DiffRecipes of equal recipes = %v, want none", got)
	}
}

func TestDiffCategories(t *testing.T) {
	a := Category{Slug: "s", Name: "Soups", Position: 1}
	b := Category{Slug: "s", Name: "Soups", Description: "Hot", Position: 1, Translations: map[string]CategoryText{"de": {Name: "Suppen"}}}
	want := []FieldDiff{{Field: "description", New: "Hot"}, {Field: "translations.de.name", New: "Suppen"}}
	if diff := cmp.Diff(want, DiffCategories(a, b)); diff != "" {
		t.Errorf("DiffCategories (-want +got):\n%s", diff)
	}
}
