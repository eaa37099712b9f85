package catalog

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// TestStampJSON pins what Sync relies on: encoding/json writes updated_at
// last, so stamping a bare encoding in place gives exactly what
// json.Marshal gives for the stamped value, and jsonBody takes it off again.
func TestStampJSON(t *testing.T) {
	times := []time.Time{
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 100000000, time.FixedZone("CET", 3600)),
	}
	temp := 100
	r := recipes.Recipe{
		ID: "tomato-soup", Category: "soups", Title: `Soup "with" ,"updated_at":"x"`, Servings: 2, TotalMinutes: 30,
		Difficulty: recipes.Easy, Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 1, Unit: "l"}},
		Steps: []recipes.Step{{Text: "Boil.", TemperatureC: &temp}}, Tags: []string{`,"updated_at":`},
	}
	c := recipes.Category{Slug: "soups", Name: "Soups", Description: `,"updated_at":"2020"`}
	for _, at := range times {
		rt, st, ct := r, r.ToSummary(), c
		rt.UpdatedAt, st.UpdatedAt, ct.UpdatedAt = at, at, at
		for _, tc := range []struct {
			name         string
			bare, marked any
		}{{"recipe", r, rt}, {"summary", r.ToSummary(), st}, {"category", c, ct}} {
			bare, _ := json.Marshal(tc.bare)
			want, _ := json.Marshal(tc.marked)
			var enc roomyEncoder
			roomy, err := enc.encode(tc.bare)
			if err != nil || string(roomy) != string(bare) || cap(roomy) < len(want) {
				t.Fatalf("roomyEncoder: %s, %v, cap %d; want %s with room for %d", roomy, err, cap(roomy), bare, len(want))
			}
			got := stampJSON(roomy, at)
			if string(got) != string(want) {
				t.Errorf("%s at %v: stampJSON = %s, want %s", tc.name, at, got, want)
			}
			if again := stampJSON(got, at); string(again) != string(want) {
				t.Errorf("%s: stamping twice = %s", tc.name, again)
			}
			if !sameJSON(string(want), bare) || !sameJSON(string(bare), want) {
				t.Errorf("%s: sameJSON(stamped, bare) = false", tc.name)
			}
		}
	}
	other := r
	other.Title = "Other"
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(other)
	if sameJSON(string(a), b) {
		t.Error("sameJSON = true for different titles")
	}
}

func TestRecipeHead(t *testing.T) {
	tests := []struct {
		raw       string
		cat, name string
		ok        bool
	}{
		{`{"id":"a","category":"soups","title":"Soup","servings":2}`, "soups", "Soup", true},
		{`{"title":"T","steps":[{"text":"x"}],"category":"c"}`, "c", "T", true},
		{`{"id":"a","title":"T"}`, "", "", false},
		{`{"id":"a","category":"",`, "", "", false},
		{`not json`, "", "", false},
	}
	for _, tt := range tests {
		cat, title, ok := recipeHead(tt.raw)
		if ok != tt.ok || ok && (cat != tt.cat || title != tt.name) {
			t.Errorf("recipeHead(%s) = %q, %q, %v; want %q, %q, %v", tt.raw, cat, title, ok, tt.cat, tt.name, tt.ok)
		}
	}
}
