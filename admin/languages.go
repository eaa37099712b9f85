package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// languagesPage is the catalog's languages with how far each is
// translated, and the forms to change them (admins only).
type languagesPage struct {
	page
	Default string
	Rows    []languageRow
	Recipes int    // editors' copies counted
	Tag     string // the add form as typed
	NewDef  string // the default form as typed
	Errors  formErrors
}

type languageRow struct {
	Lang string
	recipes.LanguageCount
}

func (s *Server) languagesPage(c echo.Context) (languagesPage, recipes.Languages, error) {
	ctx := c.Request().Context()
	l, err := s.store.Languages(ctx)
	if err != nil {
		return languagesPage{}, l, err
	}
	cov, err := s.store.Coverage(ctx)
	if err != nil {
		return languagesPage{}, l, err
	}
	p := languagesPage{page: s.page(c, "Languages", "languages"), Default: l.Default, Recipes: cov.Recipes, NewDef: l.Default}
	for _, lang := range l.Others {
		p.Rows = append(p.Rows, languageRow{Lang: lang, LanguageCount: cov.Of(lang)})
	}
	return p, l, nil
}

func (s *Server) handleLanguages(c echo.Context) error {
	p, _, err := s.languagesPage(c)
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "languages.html", p)
}

// handleLanguagesChange adds a language (op "add", field "tag"), removes
// one (op "remove:<tag>") or changes the default (op "default", field
// "default").
func (s *Server) handleLanguagesChange(c echo.Context) error {
	p, l, err := s.languagesPage(c)
	if err != nil {
		return err
	}
	op, arg, _ := strings.Cut(c.FormValue("op"), ":")
	next := recipes.Languages{Default: l.Default, Others: slices.Clone(l.Others)}
	field, msg := "", ""
	switch op {
	case "add":
		field = "tag"
		p.Tag = strings.TrimSpace(c.FormValue("tag"))
		tag, err := tagField(&p.Errors, field, p.Tag)
		if err != nil {
			p.Tag = tag // the canonical form, one click from adding it
			return c.Render(http.StatusUnprocessableEntity, "languages.html", p)
		}
		switch {
		case tag == l.Default:
			p.Errors.add(field, fmt.Sprintf("%q is the default language already: the items' own words are in it", tag))
		case slices.Contains(l.Others, tag):
			p.Errors.add(field, fmt.Sprintf("%q is offered already", tag))
		}
		next.Others = append(next.Others, tag)
		msg = fmt.Sprintf("Added %s. Every recipe now shows it as missing until it is translated.", tag)
	case "remove":
		if !slices.Contains(l.Others, arg) {
			return s.flashError(c, recipes.Errorf(recipes.EINVALID, "%q is not offered, so there is nothing to remove.", arg), "/languages")
		}
		next.Others = slices.DeleteFunc(next.Others, func(t string) bool { return t == arg })
		msg = fmt.Sprintf("Removed %s: editors no longer translate to it.", arg)
	case "default":
		field = "default"
		p.NewDef = strings.TrimSpace(c.FormValue("default"))
		tag, err := tagField(&p.Errors, field, p.NewDef)
		if err != nil {
			p.NewDef = tag
			return c.Render(http.StatusUnprocessableEntity, "languages.html", p)
		}
		if slices.Contains(l.Others, tag) {
			p.Errors.add(field, fmt.Sprintf("%q is offered as a translation; remove it first (once no translations to it are left), then make it the default", tag))
		}
		next.Default = tag
		msg = fmt.Sprintf("The default language is now %s: the items' own words are taken to be in %s. Nothing was translated.", tag, tag)
	default:
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown operation.")
	}
	if p.Errors.Any() {
		return c.Render(http.StatusUnprocessableEntity, "languages.html", p)
	}
	if err := s.store.SetLanguages(c.Request().Context(), next); err != nil {
		var verr *recipes.ValidationError
		switch {
		case errors.As(err, &verr):
			for _, f := range verr.Fields {
				p.Errors.add(field, f.Message)
			}
		case recipes.ErrorCode(err) == recipes.ECONFLICT:
			if field == "" {
				field = "remove-" + arg
			}
			p.Errors.add(field, recipes.ErrorMessage(err))
		default:
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "languages.html", p)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/languages")
}

// tagField parses a typed language tag for field. A tag that parses but
// is not written canonically is refused with the canonical form, which is
// returned for the form to offer; err is non-nil whenever a problem was
// filed.
func tagField(errs *formErrors, field, typed string) (string, error) {
	tag, err := recipes.ParseLanguage(typed)
	switch {
	case err != nil:
		errs.add(field, capitalize(err.Error()))
		return typed, err
	case tag != typed:
		err := fmt.Errorf("write %q as %q", typed, tag)
		errs.add(field, fmt.Sprintf("Write %q as %s, its canonical BCP 47 form (filled in below).", typed, strconv.Quote(tag)))
		return tag, err
	}
	return tag, nil
}

// missingPage lists the recipes missing a translation to one language.
type missingPage struct {
	page
	Lang    string
	Langs   []string // the catalog's languages to translate to
	Items   recipes.RecipePage
	PageNo  int
	Pages   int
	PrevURL string
	NextURL string
}

func (s *Server) handleMissingTranslations(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := s.store.Languages(ctx)
	if err != nil {
		return err
	}
	p := missingPage{page: s.page(c, "Missing translations", "translations"), Langs: l.Others}
	p.Lang = c.QueryParam("lang")
	if p.Lang == "" && len(l.Others) > 0 {
		p.Lang = l.Others[0]
	}
	if p.Lang == "" {
		return c.Render(http.StatusOK, "translations.html", p)
	}
	if err := checkLanguage(l, p.Lang, false); err != nil {
		return err
	}
	n, _ := strconv.Atoi(c.QueryParam("page"))
	p.PageNo = max(n, 1)
	if p.Items, err = s.store.MissingTranslations(ctx, p.Lang, (p.PageNo-1)*perPage, perPage); err != nil {
		return err
	}
	p.Pages = max(1, (p.Items.Total+perPage-1)/perPage)
	link := func(n int) string {
		return "/translations?" + url.Values{"lang": {p.Lang}, "page": {strconv.Itoa(n)}}.Encode()
	}
	if p.PageNo > 1 {
		p.PrevURL = link(p.PageNo - 1)
	}
	if p.PageNo < p.Pages {
		p.NextURL = link(p.PageNo + 1)
	}
	return c.Render(http.StatusOK, "translations.html", p)
}

// apiLanguages returns the catalog's languages.
func (s *Server) apiLanguages(c echo.Context) error {
	l, err := s.store.Languages(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// apiLanguagesSet replaces the catalog's languages: 422 for a bad list,
// 409 for dropping a language translations still use.
func (s *Server) apiLanguagesSet(c echo.Context) error {
	var l recipes.Languages
	if err := bindStrictJSON(c, &l); err != nil {
		return err
	}
	if err := s.store.SetLanguages(c.Request().Context(), l); err != nil {
		return err
	}
	return s.apiLanguages(c)
}
