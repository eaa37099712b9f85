package admin_test

import (
	"context"

	"github.com/recipesd/recipesd/recipes"
)

// The fake store's side of admin.Translating: a fresh catalog in English
// alone, which is what the fake-store tests' pages show.

func (f *fakeStore) Languages(context.Context) (recipes.Languages, error) {
	return recipes.Languages{Default: recipes.DefaultLanguage}, nil
}
func (f *fakeStore) SetLanguages(context.Context, recipes.Languages) error {
	return f.missing("SetLanguages")
}
func (f *fakeStore) Coverage(context.Context) (recipes.Coverage, error) {
	return recipes.Coverage{}, f.missing("Coverage")
}
func (f *fakeStore) MissingTranslations(context.Context, string, int, int) (recipes.RecipePage, error) {
	return recipes.RecipePage{}, f.missing("MissingTranslations")
}
func (f *fakeStore) SetCategoryTranslation(context.Context, string, string, *recipes.CategoryText) (recipes.Category, error) {
	return recipes.Category{}, f.missing("SetCategoryTranslation")
}
