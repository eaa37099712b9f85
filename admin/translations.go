package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Translating is the catalog's languages and what editors need to
// translate to them.
type Translating interface {
	// Languages returns the catalog's default language and the others.
	Languages(ctx context.Context) (recipes.Languages, error)
	// SetLanguages sets them; the *recipes.ValidationError, or ECONFLICT
	// for a language dropped while translations to it are stored.
	SetLanguages(ctx context.Context, l recipes.Languages) error
	// Coverage counts translated and missing recipes per language.
	Coverage(ctx context.Context) (recipes.Coverage, error)
	// MissingTranslations returns a page of the recipes whose editors'
	// copy lacks a translation to lang.
	MissingTranslations(ctx context.Context, lang string, offset, limit int) (recipes.RecipePage, error)
	// SetCategoryTranslation sets (nil: removes) a category's translation
	// in its draft; ENOTFOUND, or the *recipes.ValidationError.
	SetCategoryTranslation(ctx context.Context, slug, lang string, t *recipes.CategoryText) (recipes.Category, error)
}

// translationsCard is the translations card of a recipe or category page:
// each language the catalog translates to, and whether the editors' copy
// has it.
type translationsCard struct {
	Default string
	Base    string // URL the language's page hangs under: ".../translations/"
	Langs   []translationState
}

type translationState struct {
	Lang       string
	Translated bool
	Offered    bool // declared; false for a stored translation to a language no longer offered
}

func newTranslationsCard(l recipes.Languages, base string, has []string) *translationsCard {
	c := &translationsCard{Default: l.Default, Base: base}
	for _, lang := range l.Others {
		c.Langs = append(c.Langs, translationState{Lang: lang, Translated: slices.Contains(has, lang), Offered: true})
	}
	for _, lang := range has {
		if !l.Has(lang) || lang == l.Default {
			c.Langs = append(c.Langs, translationState{Lang: lang, Translated: true})
		}
	}
	return c
}

func (s *Server) recipeTranslationsCard(ctx context.Context, r recipes.Recipe) (*translationsCard, error) {
	l, err := s.store.Languages(ctx)
	if err != nil {
		return nil, err
	}
	return newTranslationsCard(l, recipeURL(r.ID)+"/translations/", r.Languages()), nil
}

// translationLang reads the :lang parameter. A tag written otherwise than
// canonically ("de-at") is redirected to its canonical page (ok false,
// err nil after the redirect); a tag that is not one is a 404.
func translationLang(c echo.Context, base string) (lang string, ok bool, err error) {
	raw := param(c, "lang")
	lang, perr := recipes.ParseLanguage(raw)
	if perr != nil {
		return "", false, recipes.Errorf(recipes.ENOTFOUND, "No such translation: %v.", perr)
	}
	if lang != raw {
		rest := strings.TrimPrefix(c.Request().URL.Path, base+url.PathEscape(raw))
		return "", false, c.Redirect(http.StatusMovedPermanently, base+url.PathEscape(lang)+rest)
	}
	return lang, true, nil
}

// checkLanguage returns ENOTFOUND unless lang is one the catalog
// translates to or has is true (a stored translation to a language no
// longer offered can still be seen and removed).
func checkLanguage(l recipes.Languages, lang string, has bool) error {
	if has || (l.Has(lang) && lang != l.Default) {
		return nil
	}
	if lang == l.Default {
		return recipes.Errorf(recipes.ENOTFOUND, "%q is the catalog's default language: its words are the item's own; edit them on its page.", lang)
	}
	return recipes.Errorf(recipes.ENOTFOUND, "The catalog does not translate to %q (it offers %s). An admin adds languages on the Languages page.", lang, strings.Join(l.All(), ", "))
}

// translationErrors files a save's validation problems under the
// translation form's field names ("translations.de.steps[1]" under
// "steps[1]"); problems of other fields become general ones.
func translationErrors(err error, lang string) (formErrors, bool) {
	var errs formErrors
	var verr *recipes.ValidationError
	if !errors.As(err, &verr) {
		return errs, errs.addErr(err, nil)
	}
	prefix := "translations." + lang + "."
	for _, f := range verr.Fields {
		if field, ok := strings.CutPrefix(f.Field, prefix); ok {
			errs.add(field, f.Message)
			continue
		}
		errs.add("", translationLabel(f.Field, lang)+" "+f.Message)
	}
	return errs, true
}

func translationLabel(path, lang string) string {
	if rest, ok := strings.CutPrefix(path, "translations."); ok {
		if rest == lang {
			return "The translation to " + lang
		}
		return "The translation " + rest
	}
	return fieldLabel(path)
}

// allOrNone checks a translated list that follows the default's by
// position: left entirely empty it keeps the default words (nil); partly
// filled, each empty entry is a problem of its own.
func allOrNone(errs *formErrors, name, what string, vals []string) []string {
	filled := slices.IndexFunc(vals, func(v string) bool { return v != "" }) >= 0
	if !filled {
		return nil
	}
	for i, v := range vals {
		if v == "" {
			errs.add(fmt.Sprintf("%s[%d]", name, i), fmt.Sprintf("is empty while other %s are translated: translate every one, or leave them all empty to keep the default words", what))
		}
	}
	return vals
}

// withTranslation returns m with lang set to t, or removed when t is nil,
// leaving m itself as it was.
func withTranslation[T any](m map[string]T, lang string, t *T) map[string]T {
	out := maps.Clone(m)
	if t == nil {
		delete(out, lang)
	} else {
		if out == nil {
			out = map[string]T{}
		}
		out[lang] = *t
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// carryTranslations keeps cur's translations through an edit of the
// default text in the recipe form: each translated ingredient name and
// step text follows its row (the form's rows remember their index in cur),
// so a removed row takes its translations with it and a moved one carries
// them along. A row new to the recipe gets the default text in every
// translation, since a translated list must name every row; the
// translation page shows such entries as the same as the default.
func carryTranslations(cur recipes.Recipe, f recipeForm, r *recipes.Recipe) {
	if len(cur.Translations) == 0 {
		return
	}
	ingOrig := make([]string, len(f.Ingredients))
	for i, row := range f.Ingredients {
		ingOrig[i] = row.Orig
	}
	stepOrig := make([]string, len(f.Steps))
	for i, row := range f.Steps {
		stepOrig[i] = row.Orig
	}
	r.Translations = make(map[string]recipes.RecipeText, len(cur.Translations))
	for lang, t := range cur.Translations {
		if len(t.Ingredients) > 0 {
			t.Ingredients = follow(t.Ingredients, ingOrig, func(i int) string { return r.Ingredients[i].Name })
		}
		if len(t.Steps) > 0 {
			t.Steps = follow(t.Steps, stepOrig, func(i int) string { return r.Steps[i].Text })
		}
		r.Translations[lang] = t
	}
}

func follow(old, orig []string, fallback func(i int) string) []string {
	out := make([]string, len(orig))
	for i, o := range orig {
		if n, err := strconv.Atoi(o); err == nil && n >= 0 && n < len(old) {
			out[i] = old[n]
		} else {
			out[i] = fallback(i)
		}
	}
	return out
}
