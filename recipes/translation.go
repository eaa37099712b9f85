package recipes

import (
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
// stored under two keys. Field names ("translations.de.steps[2]") are made
// only for a problem: a seed checks every text of every translation of
// 100,000 recipes, nearly all of them fine.
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

// validTranslationTag is [validateLanguageKey] of the key of the
// translation to lang, its field named only for a problem.
func validTranslationTag(p *problems, lang string) bool {
	if isCanonicalTag(lang) {
		return true
	}
	return validateLanguageKey(p, trField(lang, "", -1), lang)
}

// trField names member of the translation to lang, element i of it if i
// is not negative; the translation itself if member is "".
func trField(lang, member string, i int) string {
	field := "translations." + lang
	if member != "" {
		field += "." + member
	}
	if i >= 0 {
		field = indexed(field, i, "")
	}
	return field
}

// trText is [problems.text] of member of the translation to lang (element
// i of it if i is not negative).
func (p *problems) trText(lang, member string, i int, v string, required bool, max int) {
	if msg := textProblem(v, required, max); msg != "" {
		p.fields = append(p.fields, FieldError{Field: trField(lang, member, i), Message: msg})
	}
}

// appendSortedTags appends the keys of m to dst, sorted: the order
// problems are reported in. (With a buffer on the caller's stack, this
// allocates nothing for a few languages.)
func appendSortedTags[V any](dst []string, m map[string]V) []string {
	for tag := range m {
		dst = append(dst, tag)
	}
	slices.Sort(dst)
	return dst
}

func (r *Recipe) validateTranslations(p *problems) {
	if len(r.Translations) > MaxLanguages {
		p.add("translations", "has %d languages; the limit is %d", len(r.Translations), MaxLanguages)
	}
	var buf [4]string
	for _, lang := range appendSortedTags(buf[:0], r.Translations) {
		t := r.Translations[lang]
		if !validTranslationTag(p, lang) {
			continue
		}
		p.trText(lang, "title", -1, t.Title, true, MaxTitleLength)
		p.trText(lang, "summary", -1, t.Summary, false, MaxSummaryLength)
		if n := len(t.Ingredients); n != 0 && n != len(r.Ingredients) {
			p.add(trField(lang, "ingredients", -1), "has %d names for %d ingredients; give one per ingredient, in order, or none", n, len(r.Ingredients))
		}
		for i, name := range t.Ingredients {
			p.trText(lang, "ingredients", i, name, true, MaxIngredientName)
		}
		if n := len(t.Steps); n != 0 && n != len(r.Steps) {
			p.add(trField(lang, "steps", -1), "has %d texts for %d steps; give one per step, in order, or none", n, len(r.Steps))
		}
		for i, text := range t.Steps {
			p.trText(lang, "steps", i, text, true, MaxStepText)
		}
	}
}

func (c *Category) validateTranslations(p *problems) {
	if len(c.Translations) > MaxLanguages {
		p.add("translations", "has %d languages; the limit is %d", len(c.Translations), MaxLanguages)
	}
	var buf [4]string
	for _, lang := range appendSortedTags(buf[:0], c.Translations) {
		t := c.Translations[lang]
		if !validTranslationTag(p, lang) {
			continue
		}
		p.trText(lang, "name", -1, t.Name, true, MaxCategoryName)
		p.trText(lang, "description", -1, t.Description, false, MaxDescriptionLength)
	}
}
