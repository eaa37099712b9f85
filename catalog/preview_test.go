package catalog_test

import (
	"context"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

func TestDraftDocument(t *testing.T) {
	ctx := context.Background()
	s := newEnv(t).Open(t)
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de"}}); err != nil {
		t.Fatal(err)
	}
	mustPutCategory(t, s, category("soups", 0))
	plain := recipe("leek", "soups", "Leek soup", withModels("CM-200"))
	mustPutRecipe(t, s, plain)
	q := recipes.Query{Category: "soups", RecipeID: "leek", Model: "CM-200"}

	t.Run("OK", func(t *testing.T) {
		// Unchanged and untranslated, the draft is the published bytes.
		r, _, err := s.EditorRecipe(ctx, "leek")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := s.DraftDocument(ctx, r, q)
		if err != nil {
			t.Fatal(err)
		}
		if pub := mustFind(t, s, q); string(doc.Data) != string(pub.Data) || doc.Language != "en" {
			t.Fatalf("draft %s (%s), published %s", doc.Data, doc.Language, pub.Data)
		}
	})
	t.Run("Fallback", func(t *testing.T) {
		r := plain
		r.Translations = map[string]recipes.RecipeText{"de": {Title: "Lauchsuppe"}}
		tests := []struct {
			want     []string
			language string
			title    string
		}{
			{[]string{"de-AT"}, "de", "Lauchsuppe"},
			{[]string{"fr", "de"}, "de", "Lauchsuppe"},
			{[]string{"fr"}, "en", "Leek soup"},
			{nil, "en", "Leek soup"},
		}
		for _, tt := range tests {
			q := q
			q.Languages = tt.want
			doc, err := s.DraftDocument(ctx, r, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := decode[recipes.Recipe](t, doc); doc.Language != tt.language || got.Title != tt.title || got.Translations != nil {
				t.Errorf("%v: %s in %q, want %q in %q without translations", tt.want, doc.Data, doc.Language, tt.title, tt.language)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		q := q
		q.Model = "CM-100"
		_, err := s.DraftDocument(ctx, plain, q)
		assertCode(t, err, recipes.ENOTFOUND, `recipe "leek" not found in category "soups"`)
		if _, err := s.Find(ctx, q); recipes.ErrorCode(err) != recipes.ENOTFOUND || !strings.Contains(err.Error(), "leek") {
			t.Fatalf("Find for an unsuited model: %v, want the same ENOTFOUND", err)
		}
	})
}
