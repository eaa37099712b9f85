package seed_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// TestWrite_DemoLayout pins the JSON layout: each demo file is exactly
// what Write makes of its category and recipes.
func TestWrite_DemoLayout(t *testing.T) {
	demo := MustDemo(t)
	for _, cat := range demo.Categories {
		t.Run(cat.Slug, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("data", cat.Slug+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var recs []recipes.Recipe
			for _, r := range demo.Recipes {
				if r.Category == cat.Slug {
					recs = append(recs, r)
				}
			}
			var got bytes.Buffer
			if err := seed.Write(&got, seed.JSON, []recipes.Category{cat}, recs); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("(-data file +Write):\n%s", diff)
			}
		})
	}
}

// awkward is a catalog of values that need quoting or escaping somewhere.
func awkward(t *testing.T) seed.Catalog {
	c := MustDemo(t)
	texts := []string{
		`say "hi" \ back`, "yes", "no", "null", "~", "800", "0x1F", "1e3", "- dash", "# hash", "a: b", "{braces}", "[brackets]",
		"&anchor", "*alias", "!tag", "%percent", "@at", "`tick`", " leading space", "trailing space ", "tab\there",
		"two\nlines", "crème brûlée 🍮", "<b>&amp;</b>", "---", "...", "'single'", "a, b", "?", ":",
	}
	r := c.Recipes[0]
	r.Steps = nil
	for i, text := range texts {
		r.Ingredients = append(r.Ingredients, recipes.Ingredient{Name: text, Quantity: []float64{0.1, 1e-7, 100000, 2.5, 0}[i%5], Unit: recipes.Units[i%len(recipes.Units)]})
		r.Steps = append(r.Steps, recipes.Step{Text: text, Minutes: i})
	}
	r.ID, r.Title, r.Summary = "awkward", texts[0], strings.Join(texts, " | ")
	r.UpdatedAt = time.Now() // set by the store; never written
	c.Recipes = append(c.Recipes, r)
	// Enough recipes for YAML to start new documents.
	for i := range 2100 {
		more := c.Recipes[i%130]
		more.ID = fmt.Sprintf("%s-%d", more.ID, i)
		c.Recipes = append(c.Recipes, more)
	}
	c.Categories[0].Description = "line one\nline two: \"quoted\""
	c.Categories[0].UpdatedAt = time.Now()
	return c
}

func TestWrite_RoundTrip(t *testing.T) {
	c := awkward(t)
	if err := c.Validate(); err != nil {
		t.Fatalf("the test catalog is invalid: %v", err)
	}
	ignoreTimes := cmp.Options{cmpopts.IgnoreFields(recipes.Recipe{}, "UpdatedAt"), cmpopts.IgnoreFields(recipes.Category{}, "UpdatedAt")}
	for _, f := range []seed.Format{seed.JSON, seed.YAML} {
		t.Run(string(f), func(t *testing.T) {
			var first bytes.Buffer
			if err := seed.Write(&first, f, c.Categories, c.Recipes); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(first.String(), "updated_at") {
				t.Error("the file has updated_at, which only the server sets")
			}
			path := filepath.Join(t.TempDir(), "catalog."+string(f))
			writeFiles(t, filepath.Dir(path), map[string]string{filepath.Base(path): first.String()})
			back, err := seed.ReadFiles([]string{path}, seed.ReadOptions{})
			if err != nil {
				t.Fatalf("reading the file back: %v\n%.2000s", err, first.String())
			}
			if diff := cmp.Diff(c.Categories, back.Categories, ignoreTimes); diff != "" {
				t.Errorf("categories (-written +read):\n%s", diff)
			}
			if diff := cmp.Diff(c.Recipes, back.Recipes, ignoreTimes); diff != "" {
				t.Errorf("recipes (-written +read):\n%s", diff)
			}
			var second bytes.Buffer
			if err := seed.Write(&second, f, back.Categories, back.Recipes); err != nil {
				t.Fatal(err)
			}
			if first.String() != second.String() {
				t.Error("writing what was read gives another file")
			}
		})
	}
}

func TestWrite_Empty(t *testing.T) {
	for f, want := range map[seed.Format]string{
		seed.JSON: "{\n  \"categories\": [],\n  \"recipes\": []\n}\n",
		seed.YAML: "categories: []\nrecipes: []\n",
	} {
		var b bytes.Buffer
		if err := seed.Write(&b, f, nil, nil); err != nil || b.String() != want {
			t.Errorf("Write(%s) = %q, %v; want %q", f, b.String(), err, want)
		}
	}
	if err := seed.Write(&bytes.Buffer{}, "xml", nil, nil); err == nil {
		t.Error("Write(xml): no error")
	}
}

func TestFormatOf(t *testing.T) {
	for name, want := range map[string]seed.Format{"a.json": seed.JSON, "b.YAML": seed.YAML, "c.yml": seed.YAML, "d.txt": "", "": ""} {
		if got, ok := seed.FormatOf(name); got != want || ok != (want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", name, got, ok, want)
		}
	}
}
