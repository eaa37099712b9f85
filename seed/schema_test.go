package seed_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

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
		if errs := s.validate(doc); len(errs) > 0 {
			t.Errorf("%s: %v", f, errs)
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
			schemaErrs := s.validate(doc)
			if got := err == nil; got != tt.valid {
				t.Errorf("Parse accepts: %v, want %v (%v)", got, tt.valid, err)
			}
			if got := len(schemaErrs) == 0; got != tt.valid {
				t.Errorf("schema accepts: %v, want %v (%v)", got, tt.valid, schemaErrs)
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
				schemaErrs := s.validate(doc)
				if got := err == nil; got != tt.valid {
					t.Errorf("Parse accepts: %v, want %v (%v)", got, tt.valid, err)
				}
				if got := len(schemaErrs) == 0; got != tt.valid {
					t.Errorf("schema accepts: %v, want %v (%v)", got, tt.valid, schemaErrs)
				}
			})
		}
	})
	t.Run("ErrReservedSlug", func(t *testing.T) {
		doc := map[string]any{"categories": []any{map[string]any{"slug": "categories", "name": "Categories"}}}
		if errs := s.validate(doc); len(errs) == 0 {
			t.Error("schema accepts the slug \"categories\"")
		}
	})
}

// jsonSchema is the part of JSON Schema that seed/schema.json uses, enough
// to check documents against it in tests.
type jsonSchema struct{ root map[string]any }

func mustSchema(tb testing.TB) *jsonSchema {
	tb.Helper()
	var root map[string]any
	if err := json.Unmarshal(seed.Schema(), &root); err != nil {
		tb.Fatalf("schema.json: %v", err)
	}
	return &jsonSchema{root}
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

func (s *jsonSchema) validate(doc any) []string {
	return s.check(s.root, doc, "")
}

// ecmaEscape turns the \uXXXX escapes of ECMA-262 patterns into Go's.
var ecmaEscape = regexp.MustCompile(`\\u([0-9a-fA-F]{4})`)

func (s *jsonSchema) check(sch map[string]any, v any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	if ref, ok := sch["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/$defs/")
		errs = append(errs, s.check(s.root["$defs"].(map[string]any)[name].(map[string]any), v, path)...)
	}
	for _, sub := range asList(sch["allOf"]) {
		errs = append(errs, s.check(sub.(map[string]any), v, path)...)
	}
	if anyOf := asList(sch["anyOf"]); len(anyOf) > 0 && !slices.ContainsFunc(anyOf, func(sub any) bool { return len(s.check(sub.(map[string]any), v, path)) == 0 }) {
		fail("matches none of anyOf")
	}
	if not, ok := sch["not"].(map[string]any); ok && len(s.check(not, v, path)) == 0 {
		fail("matches not")
	}
	if c, ok := sch["const"]; ok && !reflect.DeepEqual(c, v) {
		fail("is not %v", c)
	}
	if enum := asList(sch["enum"]); enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%v is not in %v", v, enum)
	}
	switch typ, _ := sch["type"].(string); typ {
	case "object":
		if _, ok := v.(map[string]any); !ok {
			fail("not an object")
		}
	case "array":
		if _, ok := v.([]any); !ok {
			fail("not an array")
		}
	case "string":
		if _, ok := v.(string); !ok {
			fail("not a string")
		}
	case "number":
		if _, ok := v.(float64); !ok {
			fail("not a number")
		}
	case "integer":
		if f, ok := v.(float64); !ok || f != math.Trunc(f) {
			fail("not an integer")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			fail("not a boolean")
		}
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := sch["properties"].(map[string]any)
		for _, r := range asList(sch["required"]) {
			if _, ok := v[r.(string)]; !ok {
				fail("%s is required", r)
			}
		}
		for k, fv := range v {
			p, ok := props[k].(map[string]any)
			if !ok {
				if sch["additionalProperties"] == false {
					fail("unknown property %s", k)
				}
				continue
			}
			errs = append(errs, s.check(p, fv, path+"/"+k)...)
		}
	case []any:
		if items, ok := sch["items"].(map[string]any); ok {
			for i, it := range v {
				errs = append(errs, s.check(items, it, fmt.Sprintf("%s/%d", path, i))...)
			}
		}
		if n, ok := sch["minItems"].(float64); ok && float64(len(v)) < n {
			fail("fewer than %v items", n)
		}
		if n, ok := sch["maxItems"].(float64); ok && float64(len(v)) > n {
			fail("more than %v items", n)
		}
		if sch["uniqueItems"] == true {
			for i := range v {
				for j := range i {
					if reflect.DeepEqual(v[i], v[j]) {
						fail("items %d and %d are equal", j, i)
					}
				}
			}
		}
	case string:
		if n, ok := sch["minLength"].(float64); ok && float64(utf8.RuneCountInString(v)) < n {
			fail("shorter than %v", n)
		}
		if n, ok := sch["maxLength"].(float64); ok && float64(utf8.RuneCountInString(v)) > n {
			fail("longer than %v", n)
		}
		if p, ok := sch["pattern"].(string); ok && !regexp.MustCompile(ecmaEscape.ReplaceAllString(p, `\x{$1}`)).MatchString(v) {
			fail("%q does not match %s", v, p)
		}
	case float64:
		if n, ok := sch["minimum"].(float64); ok && v < n {
			fail("below %v", n)
		}
		if n, ok := sch["maximum"].(float64); ok && v > n {
			fail("above %v", n)
		}
	}
	return errs
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}
