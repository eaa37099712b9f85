// Package seed parses, validates and loads catalog files: the demo catalog
// embedded in this package and the files ops write for `recipesd seed`.
//
// A catalog file is one JSON object (or a YAML mapping, see [ParseYAML])
// with three optional arrays, typically one file per category:
//
//	{
//	  "categories": [
//	    {"slug": "soups", "name": "Soups", "description": "…", "position": 1}
//	  ],
//	  "recipes": [
//	    {
//	      "id": "tomato-soup", "category": "soups",
//	      "title": "Tomato soup with basil", "summary": "…",
//	      "servings": 4, "total_minutes": 35, "difficulty": "easy",
//	      "models": ["CM-200", "CM-300"],
//	      "ingredients": [{"name": "ripe tomatoes", "quantity": 800, "unit": "g"}],
//	      "steps": [{"text": "…", "minutes": 5, "temperature_c": 100, "speed": 1}],
//	      "tags": ["vegetarian"]
//	    }
//	  ],
//	  "devices": [
//	    {"id": "oven-0042", "model": "CM-300", "locale": "de-AT", "enabled": true, "secret_hash": "sha256:9f86d0…"}
//	  ]
//	}
//
// Field names, limits and allowed values are those of [recipes.Category] and
// [recipes.Recipe]: slugs and ids are lower-case words joined by hyphens and
// unique across the whole catalog; difficulty is easy, medium or hard; models
// come from [recipes.Models] (none means every model); units come from
// [recipes.Units] (none means a count, quantity 0 means "to taste"); a step's
// temperature_c (37 to 160) and speed (0 to 10) are left out when the step
// does not heat or stir. A recipe may name a category defined in another file.
// Devices (see [recipes.DeviceRecord]) bootstrap a fleet: an id unique
// across all files, a model, optionally a locale (a canonical BCP 47 tag;
// left out, a device in the store keeps its own), enabled (default true)
// and the hash of the secret, never the secret itself. A new device without a hash has one
// issued (see [SyncOptions.Secrets]); a device in the store keeps its
// secret and enabled flag unless [SyncOptions.UpdateDevices].
// Unknown fields are errors, so that a misspelt field is never silently
// dropped.
//
// Seeding checks everything before it writes anything: [ReadFiles] reads
// and checks every file (or [Parse] one, [Merge] the parts, or [ParseFS] a
// whole directory), then [Sync] writes the catalog to a [Store] in one
// atomic step, reporting what it added, changed and removed (or [Load]
// imports it into a [Writer]). Every problem found is reported, each with
// its file and line, in a [ProblemsError]. [Write] writes a catalog back
// out in the same format, [Schema] is the format's JSON Schema, and
// [Synthetic] generates big catalogs for load tests.
package seed

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/recipesd/recipesd/recipes"
)

//go:embed data/*.json
var dataFS embed.FS

// Catalog is a set of categories, recipes and devices to seed, usually
// parsed from files; call [Catalog.Validate] (or [Load], which does)
// before trusting it.
// It remembers where each record came from so that later checks can name the
// file and line; a Catalog built by hand works too, its problems just carry
// no position.
type Catalog struct {
	Categories []recipes.Category
	Recipes    []recipes.Recipe
	Devices    []recipes.DeviceRecord

	// Languages is what the files say of the catalog's languages, their
	// top-level "default_language" and "languages"; nil if they say
	// nothing (see [Sync]).
	Languages *recipes.LanguagesDecl
	langLines []int // the line of each of Languages.Others, if known
	// trLines holds the line of each translation, by translationKey.
	trLines map[srcKey]int

	// src holds the position of each occurrence of a slug or id, in order.
	src map[srcKey][]source
}

type srcKey struct{ kind, id string }

// source is where a record starts; the zero value means unknown.
type source struct {
	file string
	line int
}

func (s source) String() string {
	if s.line == 0 {
		return s.file
	}
	return fmt.Sprintf("%s:%d", s.file, s.line)
}

func (c *Catalog) addCategory(cat recipes.Category, at source) {
	c.Categories = append(c.Categories, cat)
	c.remember(srcKey{kindCategory, cat.Slug}, at)
}

func (c *Catalog) addRecipe(r recipes.Recipe, at source) {
	c.Recipes = append(c.Recipes, r)
	c.remember(srcKey{kindRecipe, r.ID}, at)
}

func (c *Catalog) addDevice(d recipes.DeviceRecord, at source) {
	c.Devices = append(c.Devices, d)
	c.remember(srcKey{kindDevice, d.ID}, at)
}

func (c *Catalog) remember(k srcKey, at source) {
	if c.src == nil {
		c.src = make(map[srcKey][]source)
	}
	c.src[k] = append(c.src[k], at)
}

// Demo returns the demo catalog embedded in this package: a first start of
// the server loads it into an empty store.
func Demo() (Catalog, error) {
	return ParseFS(dataFS, "data/*.json")
}

// The demo device: a first start on an empty store registers it next to
// the demo catalog, so that a newcomer can ask for recipes at once. Its
// model can cook every demo recipe.
const (
	DemoDeviceID    = "demo-oven"
	DemoDeviceModel = "CM-300X"
)

// ParseFS parses every file in fsys matching pattern (see [fs.Glob]) and
// merges them, reporting the problems of all files at once. Problems name
// files as the pattern matched them.
func ParseFS(fsys fs.FS, pattern string) (Catalog, error) {
	names, err := fs.Glob(fsys, pattern)
	if err != nil {
		return Catalog{}, fmt.Errorf("seed: %w", err)
	}
	if len(names) == 0 {
		return Catalog{}, &ProblemsError{Problems: []Problem{{File: pattern, Kind: kindFile, Message: "no files match"}}}
	}
	var parts []Catalog
	var all []Problem
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return Catalog{}, fmt.Errorf("seed: %w", err)
		}
		part, err := Parse(name, data)
		all = appendProblems(all, err)
		parts = append(parts, part)
	}
	c, err := Merge(parts...)
	all = appendProblems(all, err)
	return c, newProblemsError(all)
}

// appendProblems adds the problems of err, a *ProblemsError or nil, to ps.
func appendProblems(ps []Problem, err error) []Problem {
	var pe *ProblemsError
	if errors.As(err, &pe) {
		return append(ps, pe.Problems...)
	}
	return ps
}
