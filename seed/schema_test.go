package seed_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// TestSchema_Limits checks that the schema states the limits and allowed
// values of package recipes, so that the two cannot drift apart.
func TestSchema_Limits(t *testing.T) {
	s := mustSchema(t)
	def := func(path string) any { return s.at(t, path) }
	tests := []struct {
		path string
		want any
	}{
		{"/$defs/category/properties/slug/allOf/1/maxLength", recipes.MaxSlugLength},
		{"/$defs/category/properties/name/allOf/1/maxLength", recipes.MaxCategoryName},
		{"/$defs/category/properties/description/allOf/1/maxLength", recipes.MaxDescriptionLength},
		{"/$defs/category/properties/position/maximum", 1_000_000},
		{"/$defs/recipe/properties/id/allOf/1/maxLength", recipes.MaxIDLength},
		{"/$defs/recipe/properties/category/allOf/1/maxLength", recipes.MaxSlugLength},
		{"/$defs/recipe/properties/title/allOf/1/maxLength", recipes.MaxTitleLength},
		{"/$defs/recipe/properties/summary/allOf/1/maxLength", recipes.MaxSummaryLength},
		{"/$defs/recipe/properties/servings/maximum", recipes.MaxServings},
		{"/$defs/recipe/properties/total_minutes/maximum", recipes.MaxTotalMinutes},
		{"/$defs/recipe/properties/ingredients/maxItems", recipes.MaxIngredients},
		{"/$defs/recipe/properties/steps/maxItems", recipes.MaxSteps},
		{"/$defs/recipe/properties/tags/maxItems", recipes.MaxTags},
		{"/$defs/recipe/properties/tags/items/maxLength", recipes.MaxTagLength},
		{"/$defs/recipe/properties/models/items/enum", recipes.Models},
		{"/$defs/recipe/properties/difficulty/enum", []string{string(recipes.Easy), string(recipes.Medium), string(recipes.Hard)}},
		{"/$defs/ingredient/properties/name/allOf/1/maxLength", recipes.MaxIngredientName},
		{"/$defs/ingredient/properties/quantity/maximum", recipes.MaxQuantity},
		{"/$defs/ingredient/properties/unit/enum", recipes.Units},
		{"/$defs/step/properties/text/allOf/1/maxLength", recipes.MaxStepText},
		{"/$defs/step/properties/minutes/maximum", recipes.MaxStepMinutes},
		{"/$defs/step/properties/temperature_c/minimum", recipes.MinTemperatureC},
		{"/$defs/step/properties/temperature_c/maximum", recipes.MaxTemperatureC},
		{"/$defs/step/properties/speed/maximum", recipes.MaxSpeed},
		{"/$defs/recipe/properties/translations/maxProperties", recipes.MaxLanguages},
		{"/$defs/recipe/properties/translations/additionalProperties/properties/title/allOf/1/maxLength", recipes.MaxTitleLength},
		{"/$defs/recipe/properties/translations/additionalProperties/properties/summary/allOf/1/maxLength", recipes.MaxSummaryLength},
		{"/$defs/recipe/properties/translations/additionalProperties/properties/ingredients/items/allOf/1/maxLength", recipes.MaxIngredientName},
		{"/$defs/recipe/properties/translations/additionalProperties/properties/steps/items/allOf/1/maxLength", recipes.MaxStepText},
		{"/$defs/category/properties/translations/maxProperties", recipes.MaxLanguages},
		{"/$defs/category/properties/translations/additionalProperties/properties/name/allOf/1/maxLength", recipes.MaxCategoryName},
		{"/$defs/category/properties/translations/additionalProperties/properties/description/allOf/1/maxLength", recipes.MaxDescriptionLength},
		{"/properties/languages/maxItems", recipes.MaxLanguages},
		{"/$defs/device/properties/id/maxLength", recipes.MaxDeviceIDLength},
		{"/$defs/device/properties/model/enum", recipes.Models},
		{"/$defs/device/properties/secret_hash/pattern", "^" + regexp.QuoteMeta(recipes.SecretHashPrefix) + "[0-9a-f]{64}$"},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(def(tt.path))
		want, _ := json.Marshal(tt.want)
		if string(got) != string(want) {
			t.Errorf("%s = %s, want %s", tt.path, got, want)
		}
	}
	// Every field of the Go types is in the schema, and nothing else.
	for name, typ := range map[string]reflect.Type{
		"category": reflect.TypeFor[recipes.Category](), "recipe": reflect.TypeFor[recipes.Recipe](),
		"ingredient": reflect.TypeFor[recipes.Ingredient](), "step": reflect.TypeFor[recipes.Step](),
		"device": reflect.TypeFor[recipes.DeviceRecord](),
	} {
		var fields []string
		for f := range typ.Fields() {
			fields = append(fields, strings.Split(f.Tag.Get("json"), ",")[0])
		}
		props := def("/$defs/" + name + "/properties").(map[string]any)
		var keys []string
		for k := range props {
			keys = append(keys, k)
		}
		slices.Sort(fields)
		slices.Sort(keys)
		if !slices.Equal(fields, keys) {
			t.Errorf("%s: schema properties %v, Go fields %v", name, keys, fields)
		}
	}
}

// TestSchema_Demo validates the demo files against the schema.
func TestSchema_Demo(t *testing.T) {
	s := mustSchema(t)
	files, err := filepath.Glob("data/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no demo files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if err := s.validate(doc); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSchema_AgreesWithParse feeds records to both the schema and Parse:
// each must accept what the other accepts, as far as one record goes.
func TestSchema_AgreesWithParse(t *testing.T) {
	s := mustSchema(t)
	tests := []struct {
		name  string
		edits []string // applied to the valid recipe
		valid bool
	}{
		{"OK", nil, true},
		{"OKNoHeat", []string{`, "temperature_c": 100, "speed": 1`, ``}, true},
		{"OKCount", []string{`, "unit": "g"`, ``}, true},
		{"OKToTaste", []string{`"quantity": 800`, `"quantity": 0`}, true},
		{"OKNewlineInSummary", []string{`"servings"`, `"summary": "one\ntwo\tthree", "servings"`}, true},
		{"OKAllModels", []string{`"models": ["CM-200"], `, ``}, true},
		{"ErrID", []string{`"id": "tomato-soup"`, `"id": "Tomato Soup"`}, false},
		{"ErrIDTooLong", []string{`"id": "tomato-soup"`, `"id": "` + strings.Repeat("a", 65) + `"`}, false},
		{"ErrNoTitle", []string{`"title": "Tomato soup", `, ``}, false},
		{"ErrBlankTitle", []string{`"Tomato soup"`, `"   "`}, false},
		{"ErrTitleTooLong", []string{`"Tomato soup"`, `"` + strings.Repeat("é", 121) + `"`}, false},
		{"ErrControlInTitle", []string{`"Tomato soup"`, `"Tomato\u0007soup"`}, false},
		{"ErrServings", []string{`"servings": 4`, `"servings": 0`}, false},
		{"ErrServingsHigh", []string{`"servings": 4`, `"servings": 51`}, false},
		{"ErrServingsType", []string{`"servings": 4`, `"servings": "4"`}, false},
		{"ErrTotalMinutes", []string{`"total_minutes": 30`, `"total_minutes": 1441`}, false},
		{"ErrDifficulty", []string{`"easy"`, `"simple"`}, false},
		{"ErrModel", []string{`"CM-200"`, `"CM-900"`}, false},
		{"ErrModelTwice", []string{`"CM-200"`, `"CM-200", "CM-200"`}, false},
		{"ErrNoIngredients", []string{`[{"name": "tomatoes", "quantity": 800, "unit": "g"}]`, `[]`}, false},
		{"ErrNegativeQuantity", []string{`"quantity": 800`, `"quantity": -5`}, false},
		{"ErrQuantityHigh", []string{`"quantity": 800`, `"quantity": 100001`}, false},
		{"ErrUnit", []string{`"unit": "g"`, `"unit": "grams"`}, false},
		{"ErrNoSteps", []string{`[{"text": "Cook.", "minutes": 20, "temperature_c": 100, "speed": 1}]`, `[]`}, false},
		{"ErrStepText", []string{`"Cook."`, `""`}, false},
		{"ErrStepMinutes", []string{`"minutes": 20`, `"minutes": 721`}, false},
		{"ErrTemperatureHigh", []string{`"temperature_c": 100`, `"temperature_c": 400`}, false},
		{"ErrTemperatureLow", []string{`"temperature_c": 100`, `"temperature_c": 36`}, false},
		{"ErrSpeed", []string{`"speed": 1`, `"speed": 11`}, false},
		{"ErrSpeedNegative", []string{`"speed": 1`, `"speed": -1`}, false},
		{"ErrTagCase", []string{`"vegan"`, `"Vegan"`}, false},
		{"ErrTagComma", []string{`"vegan"`, `"vegan,quick"`}, false},
		{"ErrTagEmpty", []string{`"vegan"`, `""`}, false},
		{"ErrTooManyTags", []string{`"vegan"`, `"a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u"`}, false},
		{"ErrUnknownField", []string{`"speed": 1`, `"speed": 1, "temp": 90`}, false},
		{"ErrMissingCategory", []string{`"category": "soups", `, ``}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := file(soups, recipe("tomato-soup", tt.edits...))
			_, err := seed.Parse("a.json", []byte(data))
			var doc any
			if err := json.Unmarshal([]byte(data), &doc); err != nil {
				t.Fatal(err)
			}
			schemaErr := s.validate(doc)
			if got := err == nil; got != tt.valid {
				t.Errorf("Parse accepts: %v, want %v (%v)", got, tt.valid, err)
			}
			if got := schemaErr == nil; got != tt.valid {
				t.Errorf("schema accepts: %v, want %v (%v)", got, tt.valid, schemaErr)
			}
		})
	}
	t.Run("Devices", func(t *testing.T) {
		hash := hashOf("s3cret")
		tests := []struct {
			name   string
			device string
			valid  bool
		}{
			{"OK", `{"id": "oven-1", "model": "CM-300", "enabled": false, "secret_hash": "` + hash + `"}`, true},
			{"OKMinimal", `{"id": "Oven_1.b:2-c", "model": "CM-100"}`, true},
			{"OKLongID", `{"id": "` + strings.Repeat("a", 128) + `", "model": "CM-100"}`, true},
			{"ErrIDTooLong", `{"id": "` + strings.Repeat("a", 129) + `", "model": "CM-100"}`, false},
			{"ErrIDStart", `{"id": "-oven", "model": "CM-100"}`, false},
			{"ErrIDSlash", `{"id": "oven/1", "model": "CM-100"}`, false},
			{"ErrNoID", `{"model": "CM-100"}`, false},
			{"ErrNoModel", `{"id": "oven-1"}`, false},
			{"ErrModel", `{"id": "oven-1", "model": "CM-900"}`, false},
			{"ErrEnabledType", `{"id": "oven-1", "model": "CM-100", "enabled": "yes"}`, false},
			{"ErrHashUpper", `{"id": "oven-1", "model": "CM-100", "secret_hash": "` + strings.ToUpper(hash) + `"}`, false},
			{"ErrHashShort", `{"id": "oven-1", "model": "CM-100", "secret_hash": "` + hash[:70] + `"}`, false},
			{"ErrHashNoPrefix", `{"id": "oven-1", "model": "CM-100", "secret_hash": "` + hash[7:] + `"}`, false},
			{"ErrPlaintextSecret", `{"id": "oven-1", "model": "CM-100", "secret": "hunter2"}`, false},
			{"ErrUnknownField", `{"id": "oven-1", "model": "CM-100", "location": "kitchen"}`, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				data := `{"devices": [` + tt.device + `]}`
				_, err := seed.Parse("a.json", []byte(data))
				var doc any
				if err := json.Unmarshal([]byte(data), &doc); err != nil {
					t.Fatal(err)
				}
				schemaErr := s.validate(doc)
				if got := err == nil; got != tt.valid {
					t.Errorf("Parse accepts: %v, want %v (%v)", got, tt.valid, err)
				}
				if got := schemaErr == nil; got != tt.valid {
					t.Errorf("schema accepts: %v, want %v (%v)", got, tt.valid, schemaErr)
				}
			})
		}
	})
	t.Run("ErrReservedSlug", func(t *testing.T) {
		doc := map[string]any{"categories": []any{map[string]any{"slug": "categories", "name": "Categories"}}}
		if err := s.validate(doc); err == nil {
			t.Error("schema accepts the slug \"categories\"")
		}
	})
}

// jsonSchema is seed/schema.json compiled by a full JSON Schema validator,
// with the document kept for reading limits out of it.
type jsonSchema struct {
	root     map[string]any
	compiled *jsonschema.Schema
}

func mustSchema(tb testing.TB) *jsonSchema {
	tb.Helper()
	var root map[string]any
	if err := json.Unmarshal(seed.Schema(), &root); err != nil {
		tb.Fatalf("schema.json: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(seed.Schema()))
	if err != nil {
		tb.Fatalf("schema.json: %v", err)
	}
	id, _ := root["$id"].(string)
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(ecmaRegexp)
	if err := c.AddResource(id, doc); err != nil {
		tb.Fatalf("schema.json: %v", err)
	}
	compiled, err := c.Compile(id)
	if err != nil {
		tb.Fatalf("schema.json does not compile: %v", err)
	}
	return &jsonSchema{root: root, compiled: compiled}
}

// at returns the value at a JSON pointer.
func (s *jsonSchema) at(tb testing.TB, pointer string) any {
	tb.Helper()
	var v any = s.root
	for _, part := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		switch n := v.(type) {
		case map[string]any:
			v = n[part]
		case []any:
			var i int
			fmt.Sscan(part, &i)
			v = n[i]
		default:
			tb.Fatalf("schema has nothing at %s", pointer)
		}
	}
	return v
}

// validate returns the schema's objections to a document decoded by
// encoding/json, or nil if it has none.
func (s *jsonSchema) validate(doc any) error {
	return s.compiled.Validate(doc)
}

// ecmaEscape matches the \uXXXX escapes of ECMA-262 patterns, which JSON
// Schema patterns are and Go's regexp does not know.
var ecmaEscape = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)

// ecmaRegexp compiles a schema pattern with Go's regexp after turning its
// \uXXXX escapes into \x{XXXX}: the only ECMA-262 syntax schema.json uses
// that Go's regexp lacks.
func ecmaRegexp(pattern string) (jsonschema.Regexp, error) {
	return regexp.Compile(ecmaEscape.ReplaceAllString(pattern, `\x{$1}`))
}
