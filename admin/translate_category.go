package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

func categoryTranslationRows(c recipes.Category, t recipes.CategoryText) []translationRow {
	return []translationRow{
		{Field: "name", Label: "Name", Default: c.Name, Value: t.Name, Limit: recipes.MaxCategoryName},
		{Field: "description", Label: "Description", Default: c.Description, Value: t.Description, Multiline: true, Optional: true, Limit: recipes.MaxDescriptionLength},
	}
}

// categoryTranslation loads what a category translation page needs.
func (s *Server) categoryTranslation(c echo.Context) (p translationPage, cat recipes.CategoryInfo, ok bool, err error) {
	ctx := c.Request().Context()
	cat, err = s.store.EditorCategory(ctx, param(c, "slug"))
	if err != nil {
		return p, cat, false, err
	}
	base := categoryURL(cat.Slug) + "/translations/"
	lang, ok, err := translationLang(c, base)
	if !ok {
		return p, cat, false, err
	}
	l, err := s.store.Languages(ctx)
	if err != nil {
		return p, cat, false, err
	}
	t, has := cat.Translations[lang]
	if err := checkLanguage(l, lang, has); err != nil {
		return p, cat, false, err
	}
	p = translationPage{
		page: s.page(c, cat.Name+" in "+lang, "categories"), Kind: "category", Name: cat.Name,
		ItemURL: categoryURL(cat.Slug) + "/edit", Action: base + lang, Lang: lang, Default: l.Default, Status: cat.Status,
		Exists: has, Offered: l.Has(lang) && lang != l.Default, Rows: categoryTranslationRows(cat.Category, t),
	}
	return p, cat, true, nil
}

func (s *Server) handleCategoryTranslation(c echo.Context) error {
	p, _, ok, err := s.categoryTranslation(c)
	if !ok {
		return err
	}
	return c.Render(http.StatusOK, "translation.html", p)
}

func (s *Server) handleCategoryTranslationSave(c echo.Context) error {
	p, cat, ok, err := s.categoryTranslation(c)
	if !ok {
		return err
	}
	t := recipes.CategoryText{Name: strings.TrimSpace(c.FormValue("name")), Description: strings.TrimSpace(c.FormValue("description"))}
	if _, err := s.store.SetCategoryTranslation(c.Request().Context(), cat.Slug, p.Lang, &t); err != nil {
		errs, ok := translationErrors(err, p.Lang)
		if !ok {
			return err
		}
		p.Rows, p.Errors = categoryTranslationRows(cat.Category, t), errs
		return c.Render(http.StatusUnprocessableEntity, "translation.html", p)
	}
	s.flash(c, fmt.Sprintf("Saved the %s translation of “%s” as a draft; publish the category for appliances to get it.", p.Lang, cat.Name))
	return c.Redirect(http.StatusSeeOther, p.ItemURL+"#translations")
}

func (s *Server) handleCategoryTranslationDeleteForm(c echo.Context) error {
	p, cat, ok, err := s.categoryTranslation(c)
	if !ok {
		return err
	}
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, "Remove the "+p.Lang+" translation of "+cat.Name, "categories"),
		Heading: fmt.Sprintf("Remove the %s translation of “%s”?", p.Lang, cat.Name),
		Message: fmt.Sprintf("The draft loses it; once you publish, appliances asking in %s get the category in %s.", p.Lang, p.Default),
		Action:  p.Action + "/delete", Button: "Remove translation", Cancel: p.Action,
	})
}

func (s *Server) handleCategoryTranslationDelete(c echo.Context) error {
	p, cat, ok, err := s.categoryTranslation(c)
	if !ok {
		return err
	}
	if _, err := s.store.SetCategoryTranslation(c.Request().Context(), cat.Slug, p.Lang, nil); err != nil {
		return s.flashError(c, err, p.Action)
	}
	s.flash(c, fmt.Sprintf("Removed the %s translation of “%s” from the draft.", p.Lang, cat.Name))
	return c.Redirect(http.StatusSeeOther, p.ItemURL+"#translations")
}
