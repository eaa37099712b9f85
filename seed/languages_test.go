package seed_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

const germanRecipe = `"tags": ["vegan"], "translations": {"de": {"title": "Tomatensuppe", "ingredients": ["Tomaten"]}}}`

func TestParse_Languages(t *testing.T) {
	body := file(soups, recipe("tomato-soup", `"tags": ["vegan"]}`, germanRecipe))
	for _, tc := range []struct {
		name, text string
		want       *recipes.LanguagesDecl
	}{
		{"None", body, nil},
		{"Both", strings.Replace(body, "{\n", "{\n  \"default_language\": \"en\",\n  \"languages\": [\"de\", \"fr-CA\"],\n", 1),
			&recipes.LanguagesDecl{Default: "en", Others: []string{"de", "fr-CA"}, OthersGiven: true}},
		{"DefaultOnly", strings.Replace(body, "{\n", "{\n  \"default_language\": \"de-AT\",\n", 1),
			&recipes.LanguagesDecl{Default: "de-AT"}},
		{"NoOthers", strings.Replace(body, "{\n", "{\n  \"languages\": [],\n", 1),
			&recipes.LanguagesDecl{Others: []string{}, OthersGiven: true}},
		{"AtTheEnd", strings.Replace(body, "\n  ]\n}\n", "\n  ],\n  \"languages\": [\"de\"]\n}\n", 1),
			&recipes.LanguagesDecl{Others: []string{"de"}, OthersGiven: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := seed.Parse("a.json", []byte(tc.text))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, c.Languages); diff != "" {
				t.Errorf("Languages (-want +got):\n%s", diff)
			}
			if got := c.Recipes[0].Translations["de"]; got.Title != "Tomatensuppe" || len(got.Ingredients) != 1 {
				t.Errorf("translation: %+v", got)
			}
		})
	}
}

func TestParse_LanguageProblems(t *testing.T) {
	body := file(soups, recipe("tomato-soup"))
	top := func(s string) string { return strings.Replace(body, "{\n", "{\n"+s, 1) }
	for _, tc := range []struct {
		name, text string
		want       []seed.Problem
	}{
		{"NotCanonical", top("  \"languages\": [\n    \"de\",\n    \"fr-ca\"\n  ],\n"),
			[]seed.Problem{{File: "a.json", Line: 4, Kind: "file", Field: "languages[1]", Message: `write the language tag "fr-ca" as "fr-CA"`}}},
		{"Twice", top("  \"languages\": [\"de\", \"de\"],\n"),
			[]seed.Problem{{File: "a.json", Line: 2, Kind: "file", Field: "languages[1]", Message: `"de" is listed twice`}}},
		{"NotATag", top("  \"default_language\": \"english!\",\n"),
			[]seed.Problem{{File: "a.json", Line: 2, Kind: "file", Field: "default_language", Message: `"english!" is not a BCP 47 language tag (like de, de-AT, fr-CA)`}}},
		{"NotAnArray", top("  \"languages\": \"de\",\n"),
			[]seed.Problem{{File: "a.json", Line: 2, Kind: "file", Field: "languages", Message: `must be an array of BCP 47 language tags like ["de", "fr-CA"]`}}},
		{"DefaultAmongOthers", top("  \"default_language\": \"de\",\n  \"languages\": [\"fr\", \"de\"],\n"),
			[]seed.Problem{{File: "a.json", Line: 3, Kind: "file", Field: "languages[1]", Message: `"de" is the default language; list only the others`}}},
		{"GivenTwice", top("  \"languages\": [\"de\"],\n  \"languages\": [\"fr\"],\n"),
			[]seed.Problem{{File: "a.json", Line: 3, Kind: "file", Message: `"languages" appears twice`}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := seed.Parse("a.json", []byte(tc.text))
			if diff := cmp.Diff(tc.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseYAML_Languages(t *testing.T) {
	text := "default_language: en\nlanguages: [de, fr-CA]\ncategories:\n  - slug: soups\n    name: Soups\n    translations:\n      de: {name: Suppen}\n"
	c, err := seed.ParseYAML("a.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := &recipes.LanguagesDecl{Default: "en", Others: []string{"de", "fr-CA"}, OthersGiven: true}
	if diff := cmp.Diff(want, c.Languages); diff != "" {
		t.Errorf("Languages (-want +got):\n%s", diff)
	}
	if c.Categories[0].Translations["de"].Name != "Suppen" {
		t.Errorf("translations: %+v", c.Categories[0].Translations)
	}
	_, err = seed.ParseYAML("b.yaml", []byte("languages:\n  - de\n  - 7\ncategories: []\n"))
	wantPs := []seed.Problem{{File: "b.yaml", Line: 3, Kind: "file", Field: "languages[1]", Message: "must be a string: a BCP 47 language tag like de or fr-CA"}}
	if diff := cmp.Diff(wantPs, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestMerge_Languages(t *testing.T) {
	a, err := seed.Parse("a.json", []byte(strings.Replace(file(soups), "{\n", "{\n  \"default_language\": \"en\",\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := seed.Parse("b.json", []byte(strings.Replace(file(nil, recipe("tomato-soup")), "{\n", "{\n  \"languages\": [\"de\"],\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	m, err := seed.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&recipes.LanguagesDecl{Default: "en", Others: []string{"de"}, OthersGiven: true}, m.Languages); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	c, err := seed.Parse("c.json", []byte(strings.Replace(file(nil, recipe("pea-soup")), "{\n", "{\n  \"default_language\": \"de\",\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	_, err = seed.Merge(a, b, c)
	want := []seed.Problem{{File: "c.json", Line: 2, Kind: "file", Field: "default_language",
		Message: `"de" differs from "en" at a.json:2; give the catalog's languages once, or the same in every file`}}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestWrite_LanguagesRoundTrip(t *testing.T) {
	in, err := seed.Parse("a.json", []byte(strings.Replace(file(soups, recipe("tomato-soup", `"tags": ["vegan"]}`, germanRecipe)),
		"{\n", "{\n  \"default_language\": \"en\",\n  \"languages\": [\"de\"],\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []seed.Format{seed.JSON, seed.YAML} {
		var b bytes.Buffer
		if err := seed.WriteCatalog(&b, f, in); err != nil {
			t.Fatal(err)
		}
		parse := seed.Parse
		if f == seed.YAML {
			parse = seed.ParseYAML
		}
		out, err := parse("out", b.Bytes())
		if err != nil {
			t.Fatalf("%s: %v\n%s", f, err, b.String())
		}
		if diff := cmp.Diff(in.Languages, out.Languages); diff != "" {
			t.Errorf("%s languages (-in +out):\n%s", f, diff)
		}
		if diff := cmp.Diff(in.Recipes, out.Recipes); diff != "" {
			t.Errorf("%s recipes (-in +out):\n%s", f, diff)
		}
	}
}

func TestSynthetic_Translate(t *testing.T) {
	c, err := seed.Synthetic(2000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Translate("de", "fr-CA"); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("a translated synthetic catalog is invalid: %v", err)
	}
	r := c.Recipes[7]
	if got := r.Translations["de"]; got.Title != "[de] "+r.Title[:min(len(r.Title), 115)] && !strings.HasPrefix(got.Title, "[de] ") ||
		len(got.Ingredients) != len(r.Ingredients) || len(got.Steps) != len(r.Steps) {
		t.Errorf("de translation of %s: %+v", r.ID, got)
	}
	if diff := cmp.Diff(&recipes.LanguagesDecl{Others: []string{"de", "fr-CA"}, OthersGiven: true}, c.Languages); diff != "" {
		t.Errorf("Languages (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{{"en"}, {"de", "de"}, {"fr-ca"}} {
		if err := c.Translate(bad...); err == nil {
			t.Errorf("Translate(%v) = nil, want an error", bad)
		}
	}
}
