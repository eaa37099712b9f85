package recipes

import (
	"fmt"
	"maps"
	"slices"
)

// RecipeText is a recipe's words in one language, what a translator
// writes. Ingredients and Steps follow the recipe's own lists by position
// (names and step texts); an empty list keeps the default language's words.
// Quantities, temperatures and everything else are the same in every
// language.
type RecipeText struct {
	Title       string   `json:"title"`
	Summary     string   `json:"summary,omitempty"`
	Ingredients []string `json:"ingredients,omitempty"`
	Steps       []string `json:"steps,omitempty"`
}

// CategoryText is a category's words in one language.
type CategoryText struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// SummaryText is a list entry's words in one language.
type SummaryText struct {
	Title   string `json:"title"`
	Summary string `json:"summary,omitempty"`
}

// Languages returns the tags r is translated to, sorted.
func (r *Recipe) Languages() []string { return slices.Sorted(maps.Keys(r.Translations)) }

// In returns r as an appliance sees it in lang: its translation applied
// and no translations carried. ok is false when r has no translation to
// lang; the copy is then r in its default language.
func (r *Recipe) In(lang string) (out Recipe, ok bool) {
	out = *r
	out.Translations = nil
	t, ok := r.Translations[lang]
	if !ok {
		return out, false
	}
	out.Title = t.Title
	out.Summary = t.Summary
	if len(t.Ingredients) == len(r.Ingredients) {
		out.Ingredients = slices.Clone(r.Ingredients)
		for i, name := range t.Ingredients {
			out.Ingredients[i].Name = name
		}
	}
	if len(t.Steps) == len(r.Steps) {
		out.Steps = slices.Clone(r.Steps)
		for i, text := range t.Steps {
			out.Steps[i].Text = text
		}
	}
	return out, true
}

// In returns c in lang, without translations; ok is false when c has no
// translation to lang.
func (c *Category) In(lang string) (out Category, ok bool) {
	out = *c
	out.Translations = nil
	t, ok := c.Translations[lang]
	if ok {
		out.Name, out.Description = t.Name, t.Description
	}
	return out, ok
}

// In returns s in lang, without translations; ok is false when s has no
// translation to lang.
func (s *Summary) In(lang string) (out Summary, ok bool) {
	out = *s
	out.Translations = nil
	t, ok := s.Translations[lang]
	if ok {
		out.Title, out.Summary = t.Title, t.Summary
	}
	return out, ok
}

// validateTranslations checks every translation's tag and words. A tag
// must be canonical ("de-AT", not "de-at"), so that one language is never
// stored under two keys.
func validateLanguageKey(p *problems, field, tag string) bool {
	canon, err := ParseLanguage(tag)
	switch {
	case err != nil:
		p.add(field, "%v", err)
		return false
	case canon != tag:
		p.add(field, "write the language tag %q as %q", tag, canon)
		return false
	}
	return true
}

func (r *Recipe) validateTranslations(p *problems) {
	if len(r.Translations) > MaxLanguages {
		p.add("translations", "has %d languages; the limit is %d", len(r.Translations), MaxLanguages)
	}
	for _, lang := range r.Languages() {
		t := r.Translations[lang]
		field := "translations." + lang
		if !validateLanguageKey(p, field, lang) {
			continue
		}
		p.text(field+".title", t.Title, true, MaxTitleLength)
		p.text(field+".summary", t.Summary, false, MaxSummaryLength)
		if n := len(t.Ingredients); n != 0 && n != len(r.Ingredients) {
			p.add(field+".ingredients", "has %d names for %d ingredients; give one per ingredient, in order, or none", n, len(r.Ingredients))
		}
		for i, name := range t.Ingredients {
			p.text(fmt.Sprintf("%s.ingredients[%d]", field, i), name, true, MaxIngredientName)
		}
		if n := len(t.Steps); n != 0 && n != len(r.Steps) {
			p.add(field+".steps", "has %d texts for %d steps; give one per step, in order, or none", n, len(r.Steps))
		}
		for i, text := range t.Steps {
			p.text(fmt.Sprintf("%s.steps[%d]", field, i), text, true, MaxStepText)
		}
	}
}

func (c *Category) validateTranslations(p *problems) {
	if len(c.Translations) > MaxLanguages {
		p.add("translations", "has %d languages; the limit is %d", len(c.Translations), MaxLanguages)
	}
	for _, lang := range slices.Sorted(maps.Keys(c.Translations)) {
		t := c.Translations[lang]
		field := "translations." + lang
		if !validateLanguageKey(p, field, lang) {
			continue
		}
		p.text(field+".name", t.Name, true, MaxCategoryName)
		p.text(field+".description", t.Description, false, MaxDescriptionLength)
	}
}
