package seed_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

func TestCatalog_Validate(t *testing.T) {
	valid := MustDemo(t).Recipes[0]
	soup := func(id, category string) recipes.Recipe {
		r := valid
		r.ID, r.Category = id, category
		return r
	}
	tests := []struct {
		name string
		c    seed.Catalog
		want []seed.Problem
	}{
		{
			name: "OK",
			c:    seed.Catalog{Categories: []recipes.Category{{Slug: "soups", Name: "Soups"}}, Recipes: []recipes.Recipe{soup("a", "soups")}},
		},
		{
			// A catalog built by hand has no files or lines to report.
			name: "ErrInvalid",
			c: seed.Catalog{
				Categories: []recipes.Category{{Slug: "soups", Name: "Soups"}, {Slug: "soups", Name: ""}},
				Recipes:    []recipes.Recipe{soup("a", "soups"), soup("a", "soups"), soup("b", "starters")},
			},
			want: []seed.Problem{
				{Kind: "category", ID: "soups", Field: "name", Message: "is required"},
				{Kind: "category", ID: "soups", Field: "slug", Message: "is already used by another category"},
				{Kind: "recipe", ID: "a", Field: "id", Message: "is already used by another recipe"},
				{Kind: "recipe", ID: "b", Field: "category", Message: `"starters" is not a category of this catalog`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, problems(t, tt.c.Validate())); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	a, errA := seed.Parse("a.json", []byte(file(soups, recipe("tomato-soup"), recipe("tomato-soup"))))
	b, _ := seed.Parse("b.json", []byte(file(nil, recipe("tomato-soup"), recipe("pea-soup", `"category": "soups"`, `"category": "sauces"`))))
	if errA == nil {
		t.Fatal("Parse a.json: no error for the duplicate")
	}

	c, err := seed.Merge(a, b)

	// The duplicate within a.json is Parse's to report, not Merge's.
	want := []seed.Problem{
		{File: "b.json", Line: 6, Kind: "recipe", ID: "tomato-soup", Field: "id", Message: "is already used by another recipe at a.json:6"},
		{File: "b.json", Line: 7, Kind: "recipe", ID: "pea-soup", Field: "category", Message: `"sauces" is not a category of this catalog`},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if got, want := len(c.Recipes), 4; got != want {
		t.Errorf("merged %d recipes, want %d", got, want)
	}
	// Validate on the merged catalog still knows every record's line.
	if got := problems(t, c.Validate()); len(got) == 0 || got[0].File != "a.json" || got[0].Line != 7 {
		t.Errorf("Validate problems %v, want the first at a.json:7", got)
	}
}

func TestProblem_String(t *testing.T) {
	tests := []struct {
		name string
		p    seed.Problem
		want string
	}{
		{
			name: "Field",
			p:    seed.Problem{File: "soups.json", Line: 42, Kind: "recipe", ID: "tomato-soup", Field: "steps[2].temperature_c", Message: "must be between 37 and 160 °C, not 400"},
			want: `soups.json:42: recipe "tomato-soup": steps[2].temperature_c: must be between 37 and 160 °C, not 400`,
		},
		{
			name: "File",
			p:    seed.Problem{File: "soups.json", Line: 3, Kind: "file", Message: "JSON syntax error: unexpected end of file"},
			want: "soups.json:3: JSON syntax error: unexpected end of file",
		},
		{
			name: "NoPosition",
			p:    seed.Problem{Kind: "category", Field: "slug", Message: "is required"},
			want: "category: slug: is required",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("String()=%q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemsError_Error(t *testing.T) {
	one := seed.Problem{File: "a.json", Line: 1, Kind: "file", Message: "is empty"}
	two := seed.Problem{File: "b.json", Line: 2, Kind: "recipe", ID: "x", Field: "title", Message: "is required"}
	if got, want := (&seed.ProblemsError{Problems: []seed.Problem{one}}).Error(), "seed: a.json:1: is empty"; got != want {
		t.Errorf("Error()=%q, want %q", got, want)
	}
	want := "seed: 2 problems:\n\ta.json:1: is empty\n\tb.json:2: recipe \"x\": title: is required"
	if got := (&seed.ProblemsError{Problems: []seed.Problem{one, two}}).Error(); got != want {
		t.Errorf("Error()=%q, want %q", got, want)
	}
}
