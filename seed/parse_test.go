package seed_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/seed"
)

// category returns a valid category object on one line.
func category(slug string) string {
	return `{"slug": "` + slug + `", "name": "Soups", "position": 1}`
}

// recipe returns a valid recipe object on one line, with each pair of edits
// replaced (old, new, old, new...).
func recipe(id string, edits ...string) string {
	r := `{"id": "` + id + `", "category": "soups", "title": "Tomato soup", "servings": 4, "total_minutes": 30, "difficulty": "easy", ` +
		`"models": ["CM-200"], "ingredients": [{"name": "tomatoes", "quantity": 800, "unit": "g"}], ` +
		`"steps": [{"text": "Cook.", "minutes": 20, "temperature_c": 100, "speed": 1}], "tags": ["vegan"]}`
	return strings.NewReplacer(edits...).Replace(r)
}

// file lays out a catalog file one record per line: categories from line 3,
// recipes from line 5+len(cats), or line 6 with no categories.
func file(cats []string, recs ...string) string {
	return "{\n  \"categories\": [\n    " + strings.Join(cats, ",\n    ") +
		"\n  ],\n  \"recipes\": [\n    " + strings.Join(recs, ",\n    ") + "\n  ]\n}\n"
}

var soups = []string{category("soups")}

// problems returns the problems in err, failing the test for other errors.
func problems(t *testing.T, err error) []seed.Problem {
	t.Helper()
	if err == nil {
		return nil
	}
	var pe *seed.ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *seed.ProblemsError", err, err)
	}
	return pe.Problems
}

func TestParseFS(t *testing.T) {
	recipeProblem := func(line int, id, field, msg string) seed.Problem {
		return seed.Problem{File: "a.json", Line: line, Kind: "recipe", ID: id, Field: field, Message: msg}
	}
	fileProblem := func(name string, line int, msg string) seed.Problem {
		return seed.Problem{File: name, Line: line, Kind: "file", Message: msg}
	}
	tests := []struct {
		name  string
		files map[string]string
		want  []seed.Problem
	}{
		{name: "OK", files: map[string]string{"a.json": file(soups, recipe("tomato-soup"), recipe("pea-soup"))}},
		{
			name:  "OKCategoryInAnotherFile",
			files: map[string]string{"a.json": file(nil, recipe("tomato-soup")), "b.json": `{"categories": [` + category("soups") + `]}`},
		},
		{
			name:  "ErrSyntax",
			files: map[string]string{"a.json": "{\n  \"recipes\": [\n    " + recipe("tomato-soup", `"servings": 4,`, `"servings": 4,,`) + "\n  ]\n}"},
			want:  []seed.Problem{fileProblem("a.json", 3, "JSON syntax error: invalid character ',' looking for beginning of object key string")},
		},
		{
			name:  "ErrMissingComma",
			files: map[string]string{"a.json": "{\"categories\": [\n  " + category("soups") + "\n  " + category("sauces") + "\n]}"},
			want:  []seed.Problem{fileProblem("a.json", 3, "JSON syntax error: expected comma after array element")},
		},
		{
			name:  "ErrTruncated",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup"))[:40]},
			want:  []seed.Problem{fileProblem("a.json", 3, "JSON syntax error: unexpected end of file")},
		},
		{
			name:  "ErrTrailingData",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup")) + "\n{}\n"},
			want:  []seed.Problem{fileProblem("a.json", 10, "unexpected data after the top-level object")},
		},
		{
			name:  "ErrEmpty",
			files: map[string]string{"a.json": "\n"},
			want:  []seed.Problem{fileProblem("a.json", 1, `is empty; want a JSON object with "categories" and "recipes"`)},
		},
		{
			name:  "ErrNoFiles",
			files: map[string]string{"a.txt": "{}"},
			want:  []seed.Problem{fileProblem("*.json", 0, "no files match")},
		},
		{
			name:  "ErrNotACatalog",
			files: map[string]string{"a.json": "\n[" + recipe("tomato-soup") + "]"},
			want:  []seed.Problem{fileProblem("a.json", 2, `want a JSON object with "categories" and "recipes"`)},
		},
		{
			name:  "ErrNoRecords",
			files: map[string]string{"a.json": "{}"},
			want:  []seed.Problem{fileProblem("a.json", 1, "has no categories, recipes or devices")},
		},
		{
			name:  "ErrNotAnArray",
			files: map[string]string{"a.json": "{\n\"categories\": " + category("soups") + "}"},
			want:  []seed.Problem{fileProblem("a.json", 2, `"categories" must be an array`)},
		},
		{
			name:  "ErrKeyTwice",
			files: map[string]string{"a.json": "{\"categories\": [" + category("soups") + "],\n\"categories\": []}"},
			want:  []seed.Problem{fileProblem("a.json", 2, `"categories" appears twice`)},
		},
		{
			name:  "ErrUnknownTopLevelField",
			files: map[string]string{"a.json": "{\n  \"categories\": [" + category("soups") + "],\n  \"recipe\": []\n}"},
			want:  []seed.Problem{fileProblem("a.json", 3, `unknown field "recipe"; want "categories", "recipes" or "devices"`)},
		},
		{
			name:  "ErrNotAnObject",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup"), `42`)},
			want:  []seed.Problem{{File: "a.json", Line: 7, Kind: "recipe", Message: "must be a JSON object"}},
		},
		{
			name:  "ErrUnknownField",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"speed": 1`, `"speed": 1, "temp": 90`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "steps[0].temp", "unknown field; known fields are text, minutes, temperature_c, speed")},
		},
		{
			name: "ErrUnknownFieldLine",
			files: map[string]string{"a.json": "{\"categories\": [" + category("soups") + "], \"recipes\": [\n" +
				recipe("tomato-soup", `"tags": ["vegan"]`, "\"tags\": [\"vegan\"],\n\"serves\": 4") + "\n]}"},
			want: []seed.Problem{recipeProblem(3, "tomato-soup", "serves", "unknown field; known fields are id, category, title, summary, servings, total_minutes, difficulty, models, ingredients, steps, tags, translations, updated_at")},
		},
		{
			name:  "ErrWrongType",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"servings": 4`, `"servings": "four"`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "servings", "must be a whole number, not a string")},
		},
		{
			name:  "ErrWrongTypeNested",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"speed": 1}]`, `"speed": 1}, {"text": "Blend.", "speed": 9.5}]`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "steps[1].speed", "must be a whole number, not 9.5")},
		},
		{
			name:  "ErrUndecodable",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"id"`, `"updated_at": "today", "id"`))},
			want:  []seed.Problem{recipeProblem(6, "", "", `cannot decode: parsing time "today" as "2006-01-02T15:04:05Z07:00": cannot parse "today" as "2006"`)},
		},
		{
			name:  "ErrUnknownCategory",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"category": "soups"`, `"category": "soup"`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "category", `"soup" is not a category of this catalog`)},
		},
		{
			name:  "ErrDuplicateInFile",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup"), recipe("pea-soup"), recipe("tomato-soup"))},
			want:  []seed.Problem{recipeProblem(8, "tomato-soup", "id", "is already used by another recipe at a.json:6")},
		},
		{
			name: "ErrDuplicateAcrossFiles",
			files: map[string]string{
				"a.json": file(soups, recipe("tomato-soup")),
				"b.json": file(soups, recipe("pea-soup"), recipe("tomato-soup")),
			},
			want: []seed.Problem{
				{File: "b.json", Line: 3, Kind: "category", ID: "soups", Field: "slug", Message: "is already used by another category at a.json:3"},
				{File: "b.json", Line: 7, Kind: "recipe", ID: "tomato-soup", Field: "id", Message: "is already used by another recipe at a.json:6"},
			},
		},
		{
			name:  "ErrMissingTitle",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"title": "Tomato soup", `, ``))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "title", "is required")},
		},
		{
			name:  "ErrNegativeQuantity",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"quantity": 800`, `"quantity": -5`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "ingredients[0].quantity", "must not be negative (-5)")},
		},
		{
			name:  "ErrTemperature",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"temperature_c": 100`, `"temperature_c": 400`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "steps[0].temperature_c", "must be between 37 and 160 °C, not 400")},
		},
		{
			name:  "ErrTitleTooLong",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"Tomato soup"`, `"`+strings.Repeat("é", 121)+`"`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "title", "is 121 characters long; the limit is 120")},
		},
		{
			name:  "ErrUnknownModel",
			files: map[string]string{"a.json": file(soups, recipe("tomato-soup", `"CM-200"`, `"CM-900"`))},
			want:  []seed.Problem{recipeProblem(6, "tomato-soup", "models[0]", `"CM-900" is not a known appliance model (CM-100, CM-200, CM-300, CM-300X)`)},
		},
		{
			name: "ErrSeveral",
			files: map[string]string{
				"a.json": file([]string{category("soups"), `{"slug": "Sauces", "name": "Sauces", "position": 2}`},
					recipe("tomato-soup", `"temperature_c": 100`, `"temperature_c": 400`, `"unit": "g"`, `"unit": "grams"`),
					recipe("pea-soup", `"category": "soups"`, `"category": "starters"`, `"vegan"`, `"Vegan"`),
					recipe("tomato-soup", `"minutes": 20,`, `"minutes": 20, "speeed": 2,`),
				),
				"b.json": "{\"recipes\": [\n" + recipe("leek-soup", `"difficulty": "easy"`, `"difficulty": "simple"`) + "\n]}\n",
			},
			want: []seed.Problem{
				{File: "a.json", Line: 4, Kind: "category", ID: "Sauces", Field: "slug", Message: `"Sauces" must be lower-case letters, digits and single hyphens (like "tomato-soup")`},
				recipeProblem(7, "tomato-soup", "ingredients[0].unit", `"grams" is not a known unit (g, kg, ml, l, tsp, tbsp, cup, pinch, clove, slice, piece, bunch, can)`),
				recipeProblem(7, "tomato-soup", "steps[0].temperature_c", "must be between 37 and 160 °C, not 400"),
				recipeProblem(8, "pea-soup", "tags[0]", `"Vegan" must be lower case without control characters or , # + /`),
				recipeProblem(8, "pea-soup", "category", `"starters" is not a category of this catalog`),
				recipeProblem(9, "tomato-soup", "steps[0].speeed", "unknown field; known fields are text, minutes, temperature_c, speed"),
				recipeProblem(9, "tomato-soup", "id", "is already used by another recipe at a.json:7"),
				{File: "b.json", Line: 2, Kind: "recipe", ID: "leek-soup", Field: "difficulty", Message: `"simple" is not one of easy, medium, hard`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			_, err := seed.ParseFS(fsys, "*.json")
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParse(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c, err := seed.Parse("a.json", []byte(file(soups, recipe("tomato-soup"))))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if got, want := len(c.Categories), 1; got != want {
			t.Fatalf("%d categories, want %d", got, want)
		}
		if got, want := len(c.Recipes), 1; got != want {
			t.Fatalf("%d recipes, want %d", got, want)
		}
		r := c.Recipes[0]
		if got, want := r.Title, "Tomato soup"; got != want {
			t.Errorf("Title=%q, want %q", got, want)
		}
		if got := r.Steps[0].TemperatureC; got == nil || *got != 100 {
			t.Errorf("Steps[0].TemperatureC=%v, want 100", got)
		}
	})

	// A file may use categories from other files; only Merge and Validate
	// see the whole catalog.
	t.Run("OKUnknownCategory", func(t *testing.T) {
		c, err := seed.Parse("a.json", []byte(file(nil, recipe("tomato-soup"))))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		want := []seed.Problem{{File: "a.json", Line: 6, Kind: "recipe", ID: "tomato-soup", Field: "category", Message: `"soups" is not a category of this catalog`}}
		if diff := cmp.Diff(want, problems(t, c.Validate())); diff != "" {
			t.Errorf("Validate problems (-want +got):\n%s", diff)
		}
	})

	// Records with problems are returned too, so that callers can go on to
	// cross-check them.
	t.Run("ErrInvalid", func(t *testing.T) {
		c, err := seed.Parse("a.json", []byte(file(soups, recipe("tomato-soup", `"servings": 4`, `"servings": 0`))))
		if err == nil {
			t.Fatal("Parse: no error")
		}
		if got, want := len(c.Recipes), 1; got != want {
			t.Errorf("%d recipes, want %d", got, want)
		}
	})
}

// TestParse_FieldLines checks that in a record over many lines, a bad value
// is reported on its own line and a missing one on the record's first.
func TestParse_FieldLines(t *testing.T) {
	data := `{
  "recipes": [
    {
      "id": "tomato-soup",
      "category": "soups",
      "servings": 4,
      "total_minutes": 30,
      "difficulty": "easy",
      "ingredients": [
        {"name": "tomatoes", "quantity": 800, "unit": "g"},
        {"name": "salt", "quantity": -1}
      ],
      "steps": [
        {"text": "Cook.", "minutes": 20, "temperature_c": 100},
        {"text": "Blend.", "speed": 12}
      ]
    }
  ]
}`
	_, err := seed.Parse("a.json", []byte(data))
	want := []seed.Problem{
		{File: "a.json", Line: 3, Kind: "recipe", ID: "tomato-soup", Field: "title", Message: "is required"},
		{File: "a.json", Line: 11, Kind: "recipe", ID: "tomato-soup", Field: "ingredients[1].quantity", Message: "must not be negative (-1)"},
		{File: "a.json", Line: 15, Kind: "recipe", ID: "tomato-soup", Field: "steps[1].speed", Message: "must be between 0 and 10, not 12"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
