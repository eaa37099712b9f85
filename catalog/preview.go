package catalog

import (
	"context"

	"github.com/recipesd/recipesd/recipes"
)

// DraftDocument is r, an editors' copy, as [Store.Find] would serve it to
// q once published: in the language picked from q.Languages among r's
// translations in the catalog's declared languages (the default
// otherwise), rendered by
// [RecipeDocument]. It returns ENOTFOUND when r does not suit q.Model, as
// Find does, and EUNAVAILABLE when the catalog's languages cannot be read.
func (s *Store) DraftDocument(ctx context.Context, r recipes.Recipe, q recipes.Query) (recipes.Document, error) {
	if !recipes.SuitsModel(r.Models, q.Model) {
		return recipes.Document{}, recipeNotFound(r.ID, r.Category)
	}
	l, err := s.Languages(ctx)
	if err != nil {
		return recipes.Document{}, err
	}
	// As the cache does: a translation to a language the catalog no
	// longer declares is not served.
	lang := recipes.PickLanguage(q.Languages, func(t string) bool {
		_, ok := r.Translations[t]
		return ok && l.Has(t)
	}, l.Default)
	return RecipeDocument(&r, lang, l.Default)
}
