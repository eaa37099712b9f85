package seed_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/seed"
)

// yamlRecipe returns a valid recipe as a YAML list item of 12 lines, with
// each pair of edits replaced (old, new, old, new...). Its ingredient is on
// its 9th line and its step on its 11th.
func yamlRecipe(id string, edits ...string) string {
	r := `  - id: ` + id + `
    category: soups
    title: Tomato soup
    servings: 4
    total_minutes: 30
    difficulty: easy
    models: [CM-200]
    ingredients:
      - {name: tomatoes, quantity: 800, unit: g}
    steps:
      - {text: Cook., minutes: 20, temperature_c: 100, speed: 1}
    tags: [vegan]
`
	return strings.NewReplacer(edits...).Replace(r)
}

// yamlFile lays out a YAML catalog: the soups category on lines 1-4 and
// the recipes from line 6, 12 lines each.
func yamlFile(recs ...string) string {
	return "categories:\n  - slug: soups\n    name: Soups\n    position: 1\nrecipes:\n" + strings.Join(recs, "")
}

func TestParseYAML(t *testing.T) {
	recipeProblem := func(line int, id, field, msg string) seed.Problem {
		return seed.Problem{File: "a.yaml", Line: line, Kind: "recipe", ID: id, Field: field, Message: msg}
	}
	fileProblem := func(line int, msg string) seed.Problem {
		return seed.Problem{File: "a.yaml", Line: line, Kind: "file", Message: msg}
	}
	tests := []struct {
		name string
		data string
		want []seed.Problem
	}{
		{name: "OK", data: yamlFile(yamlRecipe("tomato-soup"), yamlRecipe("pea-soup"))},
		{name: "OKSchemaKey", data: "$schema: ../seed/schema.json\n" + yamlFile(yamlRecipe("tomato-soup"))},
		{
			name: "OKDocuments",
			data: "categories:\n  - {slug: soups, name: Soups}\n---\nrecipes:\n" + yamlRecipe("tomato-soup") + "---\nrecipes:\n" + yamlRecipe("pea-soup"),
		},
		{
			name: "OKAliases",
			data: yamlFile(yamlRecipe("tomato-soup", "      - {name: tomatoes", "      - &tomatoes {name: tomatoes"),
				yamlRecipe("pea-soup", "      - {name: tomatoes, quantity: 800, unit: g}", "      - *tomatoes")),
		},
		{
			name: "ErrSyntax",
			data: yamlFile(yamlRecipe("tomato-soup", "    title: Tomato soup", "    title: [Tomato soup")),
			// The line is the YAML parser's, which may be the one before.
			want: []seed.Problem{fileProblem(7, "YAML syntax error: did not find expected ',' or ']'")},
		},
		{
			name: "ErrTab",
			data: yamlFile(yamlRecipe("tomato-soup", "    servings: 4", "\tservings: 4")),
			want: []seed.Problem{fileProblem(8, "YAML syntax error: found a tab character that violates indentation")},
		},
		{name: "ErrEmpty", data: "# nothing yet\n", want: []seed.Problem{fileProblem(1, `is empty; want a mapping with "categories" and "recipes"`)}},
		{name: "ErrNotAMapping", data: "\n- soups\n", want: []seed.Problem{fileProblem(2, `want a mapping with "categories" and "recipes"`)}},
		{name: "ErrNoRecords", data: "$schema: x\n", want: []seed.Problem{fileProblem(1, "has no categories, recipes or devices")}},
		{
			name: "ErrUnknownTopLevelField",
			data: yamlFile(yamlRecipe("tomato-soup")) + "recipe: []\n",
			want: []seed.Problem{fileProblem(18, `unknown field "recipe"; want "categories", "recipes" or "devices"`)},
		},
		{
			name: "ErrKeyTwice",
			data: yamlFile(yamlRecipe("tomato-soup")) + "recipes: []\n",
			want: []seed.Problem{fileProblem(18, `"recipes" appears twice`)},
		},
		{name: "ErrNotAList", data: "categories:\n  slug: soups\n", want: []seed.Problem{fileProblem(2, `"categories" must be a list`)}},
		{
			name: "ErrNotAMappingItem",
			data: yamlFile(yamlRecipe("tomato-soup"), "  - 42\n"),
			want: []seed.Problem{{File: "a.yaml", Line: 18, Kind: "recipe", Message: "must be a mapping of fields"}},
		},
		{
			name: "ErrUnknownField",
			data: yamlFile(yamlRecipe("tomato-soup", "speed: 1}", "speed: 1, temp: 90}")),
			want: []seed.Problem{recipeProblem(16, "tomato-soup", "steps[0].temp", "unknown field; known fields are text, minutes, temperature_c, speed")},
		},
		{
			name: "ErrWrongType",
			data: yamlFile(yamlRecipe("tomato-soup", "servings: 4", "servings: four")),
			want: []seed.Problem{recipeProblem(9, "tomato-soup", "servings", "must be a whole number, not a string")},
		},
		{
			// Quoted, a number is text, as in JSON.
			name: "ErrQuotedNumber",
			data: yamlFile(yamlRecipe("tomato-soup", "quantity: 800", `quantity: "800"`)),
			want: []seed.Problem{recipeProblem(14, "tomato-soup", "ingredients[0].quantity", "must be a number, not a string")},
		},
		{
			name: "ErrFieldTwice",
			data: yamlFile(yamlRecipe("tomato-soup", "    servings: 4\n", "    servings: 4\n    servings: 5\n")),
			want: []seed.Problem{recipeProblem(10, "tomato-soup", "servings", "appears twice")},
		},
		{
			name: "ErrMissingTitle",
			data: yamlFile(yamlRecipe("tomato-soup", "    title: Tomato soup\n", "")),
			want: []seed.Problem{recipeProblem(6, "tomato-soup", "title", "is required")},
		},
		{
			name: "ErrNegativeQuantity",
			data: yamlFile(yamlRecipe("tomato-soup", "quantity: 800", "quantity: -5")),
			want: []seed.Problem{recipeProblem(14, "tomato-soup", "ingredients[0].quantity", "must not be negative (-5)")},
		},
		{
			name: "ErrTemperature",
			data: yamlFile(yamlRecipe("tomato-soup", "temperature_c: 100", "temperature_c: 400")),
			want: []seed.Problem{recipeProblem(16, "tomato-soup", "steps[0].temperature_c", "must be between 37 and 160 °C, not 400")},
		},
		{
			name: "ErrTitleTooLong",
			data: yamlFile(yamlRecipe("tomato-soup", "title: Tomato soup", "title: "+strings.Repeat("é", 121))),
			want: []seed.Problem{recipeProblem(8, "tomato-soup", "title", "is 121 characters long; the limit is 120")},
		},
		{
			name: "ErrUnknownModel",
			data: yamlFile(yamlRecipe("tomato-soup", "CM-200", "CM-900")),
			want: []seed.Problem{recipeProblem(12, "tomato-soup", "models[0]", `"CM-900" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`)},
		},
		{
			name: "ErrUnknownUnit",
			data: yamlFile(yamlRecipe("tomato-soup", "unit: g", "unit: grams")),
			want: []seed.Problem{recipeProblem(14, "tomato-soup", "ingredients[0].unit", `"grams" is not a known unit (g, kg, ml, l, tsp, tbsp, cup, pinch, clove, slice, piece, bunch, can)`)},
		},
		{
			name: "ErrDifficulty",
			data: yamlFile(yamlRecipe("tomato-soup", "difficulty: easy", "difficulty: simple")),
			want: []seed.Problem{recipeProblem(11, "tomato-soup", "difficulty", `"simple" is not one of easy, medium, hard`)},
		},
		{
			name: "ErrDuplicateID",
			data: yamlFile(yamlRecipe("tomato-soup"), yamlRecipe("tomato-soup")),
			want: []seed.Problem{recipeProblem(18, "tomato-soup", "id", "is already used by another recipe at a.yaml:6")},
		},
		{
			name: "ErrCategory",
			data: "categories:\n  - slug: Soups\n    name: ''\n",
			want: []seed.Problem{
				{File: "a.yaml", Line: 2, Kind: "category", ID: "Soups", Field: "slug", Message: `"Soups" must be lower-case letters, digits and single hyphens (like "tomato-soup")`},
				{File: "a.yaml", Line: 3, Kind: "category", ID: "Soups", Field: "name", Message: "is required"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := seed.ParseYAML("a.yaml", []byte(tt.data))
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseYAML_SameAsJSON checks that a YAML file and the JSON file with
// the same content give the same catalog.
func TestParseYAML_SameAsJSON(t *testing.T) {
	fromJSON, err := seed.Parse("a.json", []byte(file(soups, recipe("tomato-soup"), recipe("pea-soup", `"quantity": 800`, `"quantity": 0.5`))))
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := seed.ParseYAML("a.yaml", []byte(yamlFile(yamlRecipe("tomato-soup"), yamlRecipe("pea-soup", "quantity: 800", "quantity: 0.5"))))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fromJSON.Recipes, fromYAML.Recipes); diff != "" {
		t.Errorf("recipes (-json +yaml):\n%s", diff)
	}
	if got, want := fromYAML.Categories[0].Slug, "soups"; got != want {
		t.Errorf("category %q, want %q", got, want)
	}
}
