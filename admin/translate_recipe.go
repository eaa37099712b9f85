package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// translationPage shows an item's default words read-only beside inputs
// for one language, a recipe's or a category's.
type translationPage struct {
	page
	Kind     string // "recipe" or "category"
	Name     string // the item's default title or name
	ItemURL  string
	Action   string
	Lang     string
	Default  string
	Status   recipes.Status
	Exists   bool // the editors' copy has this translation
	Offered  bool // the catalog translates to Lang
	Rows     []translationRow
	Errors   formErrors
	Category recipes.CategoryInfo // a recipe's, for the crumbs
}

// translationRow is one translatable field: the default words and the
// translation as typed.
type translationRow struct {
	Field     string // form field and error key: "title", "steps[2]"
	Label     string
	Default   string
	Value     string
	Multiline bool
	Optional  bool
	Limit     int
}

// Same reports a translation that repeats the default words, which is
// what a row added after translating holds until someone translates it.
func (r translationRow) Same() bool { return r.Value != "" && r.Value == r.Default }

func recipeTranslationRows(r recipes.Recipe, t recipes.RecipeText) []translationRow {
	rows := []translationRow{
		{Field: "title", Label: "Title", Default: r.Title, Value: t.Title, Limit: recipes.MaxTitleLength},
		{Field: "summary", Label: "Summary", Default: r.Summary, Value: t.Summary, Multiline: true, Optional: true, Limit: recipes.MaxSummaryLength},
	}
	for i, in := range r.Ingredients {
		row := translationRow{Field: fmt.Sprintf("ingredients[%d]", i), Label: fmt.Sprintf("Ingredient %d", i+1), Default: in.Name, Limit: recipes.MaxIngredientName}
		if i < len(t.Ingredients) {
			row.Value = t.Ingredients[i]
		}
		rows = append(rows, row)
	}
	for i, st := range r.Steps {
		row := translationRow{Field: fmt.Sprintf("steps[%d]", i), Label: fmt.Sprintf("Step %d", i+1), Default: st.Text, Multiline: true, Limit: recipes.MaxStepText}
		if i < len(t.Steps) {
			row.Value = t.Steps[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// recipeTranslation loads what a recipe translation page needs.
func (s *Server) recipeTranslation(c echo.Context) (p translationPage, r recipes.Recipe, ok bool, err error) {
	ctx := c.Request().Context()
	r, status, err := s.store.EditorRecipe(ctx, param(c, "id"))
	if err != nil {
		return p, r, false, err
	}
	base := recipeURL(r.ID) + "/translations/"
	lang, ok, err := translationLang(c, base)
	if !ok {
		return p, r, false, err
	}
	l, err := s.store.Languages(ctx)
	if err != nil {
		return p, r, false, err
	}
	t, has := r.Translations[lang]
	if err := checkLanguage(l, lang, has); err != nil {
		return p, r, false, err
	}
	cat, err := s.store.EditorCategory(ctx, r.Category)
	if err != nil {
		return p, r, false, err
	}
	p = translationPage{
		page: s.page(c, r.Title+" in "+lang, "categories"), Kind: "recipe", Name: r.Title,
		ItemURL: recipeURL(r.ID), Action: base + lang, Lang: lang, Default: l.Default, Status: status,
		Exists: has, Offered: l.Has(lang) && lang != l.Default, Rows: recipeTranslationRows(r, t), Category: cat,
	}
	return p, r, true, nil
}

func (s *Server) handleRecipeTranslation(c echo.Context) error {
	p, _, ok, err := s.recipeTranslation(c)
	if !ok {
		return err
	}
	return c.Render(http.StatusOK, "translation.html", p)
}

func (s *Server) handleRecipeTranslationSave(c echo.Context) error {
	p, r, ok, err := s.recipeTranslation(c)
	if !ok {
		return err
	}
	v, err := c.FormParams()
	if err != nil {
		return err
	}
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	t := recipes.RecipeText{Title: get("title"), Summary: get("summary")}
	ings := make([]string, len(r.Ingredients))
	for i := range ings {
		ings[i] = get(fmt.Sprintf("ingredients[%d]", i))
	}
	steps := make([]string, len(r.Steps))
	for i := range steps {
		steps[i] = get(fmt.Sprintf("steps[%d]", i))
	}
	var errs formErrors
	t.Ingredients = allOrNone(&errs, "ingredients", "ingredients", ings)
	t.Steps = allOrNone(&errs, "steps", "steps", steps)
	typed := recipes.RecipeText{Title: t.Title, Summary: t.Summary, Ingredients: ings, Steps: steps}
	show := func(errs formErrors) error {
		p.Rows, p.Errors = recipeTranslationRows(r, typed), errs
		return c.Render(http.StatusUnprocessableEntity, "translation.html", p)
	}
	if errs.Any() {
		// Validation's own findings too, so every problem shows at once.
		r.Translations = withTranslation(r.Translations, p.Lang, &t)
		if verr := r.Validate(); verr != nil {
			more, _ := translationErrors(verr, p.Lang)
			for _, fe := range more.order {
				if !errs.Has(fe.Field) {
					errs.add(fe.Field, fe.Message)
				}
			}
		}
		return show(errs)
	}
	r.Translations = withTranslation(r.Translations, p.Lang, &t)
	saved, err := s.store.SaveRecipe(c.Request().Context(), r)
	if err != nil {
		errs, ok := translationErrors(err, p.Lang)
		if !ok {
			return err
		}
		return show(errs)
	}
	s.flash(c, fmt.Sprintf("Saved the %s translation of “%s” as a draft. Appliances asking in %s get it once you publish the recipe.", p.Lang, saved.Title, p.Lang))
	return c.Redirect(http.StatusSeeOther, recipeURL(saved.ID)+"#translations")
}

func (s *Server) handleRecipeTranslationDeleteForm(c echo.Context) error {
	p, r, ok, err := s.recipeTranslation(c)
	if !ok {
		return err
	}
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, "Remove the "+p.Lang+" translation of "+r.Title, "categories"),
		Heading: fmt.Sprintf("Remove the %s translation of “%s”?", p.Lang, r.Title),
		Message: fmt.Sprintf("The draft loses it; once you publish, appliances asking in %s get the recipe in %s.", p.Lang, p.Default),
		Action:  p.Action + "/delete", Button: "Remove translation", Cancel: p.Action,
	})
}

func (s *Server) handleRecipeTranslationDelete(c echo.Context) error {
	p, r, ok, err := s.recipeTranslation(c)
	if !ok {
		return err
	}
	if !p.Exists {
		s.flash(c, fmt.Sprintf("“%s” has no %s translation to remove.", r.Title, p.Lang))
		return c.Redirect(http.StatusSeeOther, recipeURL(r.ID)+"#translations")
	}
	r.Translations = withTranslation[recipes.RecipeText](r.Translations, p.Lang, nil)
	if _, err := s.store.SaveRecipe(c.Request().Context(), r); err != nil {
		return s.flashError(c, err, p.Action)
	}
	s.flash(c, fmt.Sprintf("Removed the %s translation of “%s” from the draft. Publish the recipe for appliances to stop getting it.", p.Lang, r.Title))
	return c.Redirect(http.StatusSeeOther, recipeURL(r.ID)+"#translations")
}
