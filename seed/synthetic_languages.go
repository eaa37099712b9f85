package seed

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/recipesd/recipesd/recipes"
)

// Translate gives every category and recipe of c, a synthetic catalog, a
// translation to each of langs (canonical BCP 47 tags other than the
// default, en), and declares them: a load test of a catalog in several
// languages. The words are the English ones marked with the language
// ("[de] Tomato soup"), within the same limits.
func (c *Catalog) Translate(langs ...string) error {
	for i, l := range langs {
		if msg := tagProblem(l); msg != "" {
			return fmt.Errorf("seed: language %d: %s", i+1, msg)
		}
		if l == recipes.DefaultLanguage || slices.Index(langs, l) != i {
			return fmt.Errorf("seed: language %q: give each language other than %s once", l, recipes.DefaultLanguage)
		}
	}
	if len(langs) == 0 {
		return nil
	}
	c.Languages = &recipes.LanguagesDecl{Others: slices.Clone(langs), OthersGiven: true}
	for i := range c.Categories {
		cat := &c.Categories[i]
		cat.Translations = make(map[string]recipes.CategoryText, len(langs))
		for _, l := range langs {
			cat.Translations[l] = recipes.CategoryText{
				Name:        marked(l, cat.Name, recipes.MaxCategoryName),
				Description: marked(l, cat.Description, recipes.MaxDescriptionLength),
			}
		}
	}
	for i := range c.Recipes {
		r := &c.Recipes[i]
		r.Translations = make(map[string]recipes.RecipeText, len(langs))
		for _, l := range langs {
			t := recipes.RecipeText{
				Title:       marked(l, r.Title, recipes.MaxTitleLength),
				Summary:     marked(l, r.Summary, recipes.MaxSummaryLength),
				Ingredients: make([]string, len(r.Ingredients)),
				Steps:       make([]string, len(r.Steps)),
			}
			for j, ing := range r.Ingredients {
				t.Ingredients[j] = marked(l, ing.Name, recipes.MaxIngredientName)
			}
			for j, st := range r.Steps {
				t.Steps[j] = marked(l, st.Text, recipes.MaxStepText)
			}
			r.Translations[l] = t
		}
	}
	return nil
}

// marked returns "[lang] s" cut to max characters, or "" for "".
func marked(lang, s string, max int) string {
	if s == "" {
		return ""
	}
	out := "[" + lang + "] " + s
	if utf8.RuneCountInString(out) <= max {
		return out
	}
	return strings.TrimRight(string([]rune(out)[:max]), " ")
}
