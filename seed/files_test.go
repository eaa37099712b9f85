package seed_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/seed"
)

// writeFiles writes name -> content under dir, making directories.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	sauces := `{"categories": [{"slug": "sauces", "name": "Sauces", "position": 2}]}`
	writeFiles(t, dir, map[string]string{
		"soups.json":          file(soups, recipe("tomato-soup"), recipe("pea-soup")),
		"more/sauces.JSON":    sauces,
		"more/pesto.yml":      "recipes:\n" + yamlRecipe("pesto", "category: soups", "category: sauces"),
		"more/leek.yaml":      "recipes:\n" + yamlRecipe("leek-soup"),
		".git/old.json":       "not even JSON",
		"README.md":           "# not a catalog",
		"empty/.keep":         "",
		"notes.txt":           "hello",
		"bad/broken.json":     "{",
		"bad/unknown-cat.yml": "recipes:\n" + yamlRecipe("salsa", "category: soups", "category: salsas"),
	})
	at := func(name string) string { return filepath.Join(dir, name) }

	t.Run("OK", func(t *testing.T) {
		var calls []int64
		var total int64
		c, err := seed.ReadFiles([]string{at("soups.json"), at("more"), at("more/leek.yaml")}, seed.ReadOptions{
			Progress: func(done, all int64) { calls, total = append(calls, done), all },
		})
		if err != nil {
			t.Fatalf("ReadFiles: %v", err)
		}
		var got []string
		for _, r := range c.Recipes {
			got = append(got, r.ID)
		}
		// Files in the order given, directories in lexical order, each
		// file once.
		if diff := cmp.Diff([]string{"tomato-soup", "pea-soup", "leek-soup", "pesto"}, got); diff != "" {
			t.Errorf("recipes (-want +got):\n%s", diff)
		}
		if len(c.Categories) != 2 {
			t.Errorf("%d categories, want 2", len(c.Categories))
		}
		if len(calls) < 2 || calls[0] != 0 || calls[len(calls)-1] != total || total == 0 {
			t.Errorf("progress calls %v of %d; want 0 first and the total last", calls, total)
		}
	})

	t.Run("OKKnownCategory", func(t *testing.T) {
		_, err := seed.ReadFiles([]string{at("bad/unknown-cat.yml")}, seed.ReadOptions{Known: func(slug string) bool { return slug == "salsas" }})
		if err != nil {
			t.Fatalf("ReadFiles: %v", err)
		}
	})

	t.Run("ErrProblems", func(t *testing.T) {
		_, err := seed.ReadFiles([]string{at("nope.json"), at("notes.txt"), at("empty"), at("bad"), at("soups.json")}, seed.ReadOptions{})
		want := []seed.Problem{
			{File: at("bad/broken.json"), Line: 1, Kind: "file", Message: "JSON syntax error: unexpected end of file"},
			{File: at("bad/unknown-cat.yml"), Line: 2, Kind: "recipe", ID: "salsa", Field: "category", Message: `"salsas" is not a category of this catalog`},
			{File: at("empty"), Kind: "file", Message: "is a directory without catalog files (.json, .yaml, .yml)"},
			{File: at("nope.json"), Kind: "file", Message: "cannot be read: no such file or directory"},
			{File: at("notes.txt"), Kind: "file", Message: "is not a catalog file; want a name ending in .json, .yaml, .yml"},
		}
		if diff := cmp.Diff(want, problems(t, err)); diff != "" {
			t.Errorf("problems (-want +got):\n%s", diff)
		}
	})
}

// TestReadFiles_BadRecordAtEnd reads a big file whose last record is bad:
// the problem is found, on its line, and is the only one.
func TestReadFiles_BadRecordAtEnd(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 2000
	}
	recs := make([]string, n)
	for i := range recs {
		recs[i] = recipe(fmt.Sprintf("soup-%05d", i))
	}
	recs[n-1] = recipe(fmt.Sprintf("soup-%05d", n-1), `"speed": 1`, `"speed": 11`)
	path := filepath.Join(t.TempDir(), "big.json")
	writeFiles(t, filepath.Dir(path), map[string]string{"big.json": file(soups, recs...)})

	c, err := seed.ReadFiles([]string{path}, seed.ReadOptions{})

	want := []seed.Problem{{File: path, Line: 5 + n, Kind: "recipe", ID: fmt.Sprintf("soup-%05d", n-1), Field: "steps[0].speed", Message: "must be between 0 and 10, not 11"}}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if len(c.Recipes) != n {
		t.Errorf("%d recipes read, want %d", len(c.Recipes), n)
	}
}

// TestReadFiles_SameAsParse checks that a file read from disk, a window at
// a time, gives the problems Parse gives for its bytes in memory.
func TestReadFiles_SameAsParse(t *testing.T) {
	long := strings.Repeat("x", 300<<10) // longer than the read window
	inputs := map[string]string{
		"syntax.json":    "{\n  \"recipes\": [\n    " + recipe("tomato-soup", `"servings": 4,`, `"servings": 4,,`) + "\n  ]\n}",
		"truncated.json": file(soups, recipe("tomato-soup"))[:40] + "\n\n  \n",
		"trailing.json":  file(soups, recipe("tomato-soup")) + "\n{}\n",
		"shape.json": file(soups, recipe("a-soup", `"speed": 1`, `"speed": 1, "temp": 90`), `42`,
			recipe("b-soup", `"servings": 4`, `"servings": "four"`), recipe("c-soup", `"title": "Tomato soup"`, `"title": "`+long+`"`),
			recipe("d-soup", `"tags": ["vegan"]`, "\"tags\": [\"vegan\"],\n\"serves\": 4")),
		"types.json":    file(soups, recipe("a-soup", `"speed": 1}]`, `"speed": 1}, {"text": "Blend.", "speed": 9.5}]`)),
		"notarray.json": "{\n\"categories\": " + category("soups") + "}",
	}
	dir := t.TempDir()
	writeFiles(t, dir, inputs)
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			_, memErr := seed.Parse(path, []byte(data))
			_, fileErr := seed.ReadFiles([]string{path}, seed.ReadOptions{Known: func(string) bool { return true }})
			want := problems(t, memErr)
			if len(want) == 0 {
				t.Fatal("the input has no problems; the test needs some")
			}
			if diff := cmp.Diff(want, problems(t, fileErr)); diff != "" {
				t.Errorf("problems (-Parse +ReadFiles):\n%s", diff)
			}
		})
	}
}
