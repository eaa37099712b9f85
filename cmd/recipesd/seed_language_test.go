package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

// A catalog file in two languages besides English, as editors write it.
const translatedJSON = `{
  "default_language": "en",
  "languages": ["de", "fr-CA"],
  "categories": [
    {"slug": "soups", "name": "Soups", "position": 1,
     "translations": {"de": {"name": "Suppen"}, "fr-CA": {"name": "Soupes", "description": "Chaudes"}}}
  ],
  "recipes": [
    {
      "id": "tomato-soup", "category": "soups", "title": "Tomato soup", "summary": "Red.",
      "servings": 4, "total_minutes": 35, "difficulty": "easy",
      "ingredients": [{"name": "tomatoes", "quantity": 800, "unit": "g"}, {"name": "salt", "quantity": 0}],
      "steps": [{"text": "Cook.", "minutes": 20, "temperature_c": 100, "speed": 1}],
      "translations": {
        "de": {"title": "Tomatensuppe", "summary": "Rot.", "ingredients": ["Tomaten", "Salz"], "steps": ["Kochen."]},
        "fr-CA": {"title": "Soupe aux tomates"}
      }
    },
    {
      "id": "pea-soup", "category": "soups", "title": "Pea soup",
      "servings": 2, "total_minutes": 25, "difficulty": "easy",
      "ingredients": [{"name": "peas", "quantity": 500, "unit": "g"}],
      "steps": [{"text": "Cook.", "minutes": 15}]
    }
  ]
}
`

// TestSeedCommand_Languages seeds a file with translations, serves it in
// German, exports it in both formats and seeds each export again: nothing
// changes, so the round trip keeps every translation and the languages.
func TestSeedCommand_Languages(t *testing.T) {
	ctx := context.Background()
	st := newTestRedis(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog.json")
	writeText(t, file, translatedJSON)
	r := st.mustRun(t, exitOK, "seed", file)
	if !strings.Contains(r.stdout, "languages en (default), de, fr-CA") {
		t.Errorf("seed output does not name the languages:\n%s", r.stdout)
	}
	s := st.openStore(t)
	if l, err := s.Languages(ctx); err != nil || l.Default != "en" || !slices.Equal(l.Others, []string{"de", "fr-CA"}) {
		t.Fatalf("Languages() = %+v, %v", l, err)
	}
	doc, err := s.Find(ctx, recipes.Query{Category: "soups", RecipeID: "tomato-soup", Languages: []string{"de-AT"}})
	if err != nil || doc.Language != "de" || !strings.Contains(string(doc.Data), `"Tomaten"`) {
		t.Fatalf("tomato-soup in de-AT: %s %s, %v", doc.Language, doc.Data, err)
	}

	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, "export."+format)
			st.mustRun(t, exitOK, "export", "-o", out)
			text := readFile(t, out)
			for _, want := range []string{"default_language", "languages", "Tomatensuppe", "Soupes", "Salz"} {
				if !strings.Contains(text, want) {
					t.Errorf("the export lacks %q:\n%s", want, text)
				}
			}
			before := st.dump(t)
			r := st.mustRun(t, exitOK, "seed", "-prune", out)
			if !strings.Contains(r.stdout, "recipes 0 added, 0 changed, 0 removed; categories 0 added, 0 changed, 0 removed") || strings.Contains(r.stdout, "languages") {
				t.Errorf("seeding the export changed something:\n%s", r.stdout)
			}
			if after := st.dump(t); after != before {
				t.Errorf("seeding the export changed the store:\n%s\n---\n%s", before, after)
			}
		})
	}
}

// TestSeedCommand_LanguageProblems: every problem with languages names its
// file and line, and nothing is written.
func TestSeedCommand_LanguageProblems(t *testing.T) {
	st := newTestRedis(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	writeText(t, good, translatedJSON)
	st.mustRun(t, exitOK, "seed", good)
	lineOf := func(text, sub string) int {
		for i, l := range strings.Split(text, "\n") {
			if strings.Contains(l, sub) {
				return i + 1
			}
		}
		t.Fatalf("no %q in the file", sub)
		return 0
	}
	for _, tc := range []struct {
		name, text, at, want string
	}{
		{
			"TranslationToUndeclared",
			strings.Replace(translatedJSON, `"fr-CA": {"title": "Soupe aux tomates"}`, `"fr-CA": {"title": "Soupe aux tomates"},
        "it": {"title": "Zuppa di pomodoro"}`, 1),
			`"it": {"title"`,
			`recipe "tomato-soup": translations.it: "it" is not one of the catalog's languages (de, fr-CA)`,
		},
		{
			"TranslationToDefault",
			strings.Replace(translatedJSON, `"de": {"name": "Suppen"}`, `"en": {"name": "Soups!"}`, 1),
			`"en": {"name"`,
			`category "soups": translations.en: "en" is the catalog's default language`,
		},
		{
			"NotCanonical",
			strings.Replace(translatedJSON, `"languages": ["de", "fr-CA"]`, `"languages": [
    "de",
    "fr-ca"
  ]`, 1),
			`"fr-ca"`,
			`languages[1]: write the language tag "fr-ca" as "fr-CA"`,
		},
		{
			"DefaultAmongOthers",
			strings.Replace(translatedJSON, `"languages": ["de", "fr-CA"]`, `"languages": ["de", "fr-CA", "en"]`, 1),
			`"languages"`,
			`languages[2]: "en" is the default language; list only the others`,
		},
		{
			"DefaultNotAString",
			strings.Replace(translatedJSON, `"default_language": "en"`, `"default_language": 7`, 1),
			`"default_language"`,
			`default_language: must be a string`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, tc.name+".json")
			writeText(t, file, tc.text)
			before := st.dump(t)
			r := st.mustRun(t, exitUsage, "seed", file)
			if want := fmt.Sprintf("%s:%d: %s", file, lineOf(tc.text, tc.at), tc.want); !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
			if st.dump(t) != before {
				t.Errorf("a refused seed wrote:\n%s\n---\n%s", before, st.dump(t))
			}
		})
	}
	t.Run("YAML", func(t *testing.T) {
		file := filepath.Join(dir, "bad.yaml")
		text := "default_language: en\nlanguages: [de]\ncategories:\n  - slug: soups\n    name: Soups\n    translations:\n      de: {name: Suppen}\n      it: {name: Zuppe}\n"
		writeText(t, file, text)
		r := st.mustRun(t, exitUsage, "seed", file)
		if want := file + `:8: category "soups": translations.it: "it" is not one of the catalog's languages (de)`; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	})
}

// TestSeedCommand_SyntheticLanguages seeds a generated catalog translated
// to two languages, as the load tests do.
func TestSeedCommand_SyntheticLanguages(t *testing.T) {
	st := newTestRedis(t)
	r := st.mustRun(t, exitOK, "seed", "-synthetic", "300", "-synthetic-languages", "de,fr")
	if !strings.Contains(r.stdout, "languages en (default), de, fr") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	doc, err := st.openStore(t).Find(context.Background(), recipes.Query{Languages: []string{"fr-FR"}})
	if err != nil || doc.Language != "fr" || !strings.Contains(string(doc.Data), "[fr] ") {
		t.Fatalf("category list in fr-FR: %s %.200s, %v", doc.Language, doc.Data, err)
	}
	st.mustRun(t, exitUsage, "seed", "-synthetic-languages", "de", "x.json")
}
