package recipes

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/text/language"
)

// DefaultLanguage is the catalog's language until one is set.
const DefaultLanguage = "en"

// MaxLanguages bounds the translations one category or recipe may carry,
// and the tags one accept-language list may name.
const MaxLanguages = 32

// ParseLanguage returns tag in its canonical BCP 47 form ("de-at" ->
// "de-AT", "iw" -> "he"), or an error saying why it is not a language
// tag. Wildcards, "und" and private-use-only tags name no language.
func ParseLanguage(tag string) (string, error) {
	s := strings.TrimSpace(tag)
	if s == "" {
		return "", fmt.Errorf("language tag is empty")
	}
	if len(s) > 35 {
		return "", fmt.Errorf("language tag %q is longer than 35 characters", tag)
	}
	t, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a BCP 47 language tag (like de, de-AT, fr-CA)", tag)
	}
	if b, conf := t.Base(); conf != language.Exact || b.String() == "und" {
		return "", fmt.Errorf("%q names no language (like de, de-AT, fr-CA)", tag)
	}
	return t.String(), nil
}

// canonicalTags holds tags [ParseLanguage] found canonical, at most
// maxCanonicalTags of them: a seed checks the same few translation tags on
// each of 100,000 recipes, and parsing one costs more than checking all
// of a recipe's words. Only canonical tags are kept, so a tag is either
// known good or parsed again, and its error made, as before.
var (
	canonicalTags     sync.Map // string -> struct{}
	canonicalTagCount atomic.Int32
)

const maxCanonicalTags = 256

// isCanonicalTag reports whether tag is a language tag in its canonical
// form, as ParseLanguage(tag) returning tag does.
func isCanonicalTag(tag string) bool {
	if _, ok := canonicalTags.Load(tag); ok {
		return true
	}
	canon, err := ParseLanguage(tag)
	if err != nil || canon != tag {
		return false
	}
	if canonicalTagCount.Add(1) <= maxCanonicalTags {
		canonicalTags.Store(strings.Clone(tag), struct{}{})
	}
	return true
}

// ParseAcceptLanguage returns the tags of an accept-language value,
// most preferred first: a comma-separated list of BCP 47 tags, each
// optionally weighted with ";q=" as in HTTP. Tags weighted 0 and "*" are
// left out.
func ParseAcceptLanguage(s string) ([]string, error) {
	tags, _, err := language.ParseAcceptLanguage(s)
	if err != nil {
		return nil, fmt.Errorf("accept-language %q is not a list of BCP 47 tags: %v", s, err)
	}
	if len(tags) > MaxLanguages {
		return nil, fmt.Errorf("accept-language names %d languages; the limit is %d", len(tags), MaxLanguages)
	}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		// "*" parses as "mul" (several languages): no language to serve.
		if b, conf := t.Base(); conf != language.Exact || b.String() == "und" || b.String() == "mul" {
			continue
		}
		out = append(out, t.String())
	}
	return out, nil
}

// Fallbacks returns tag and the shorter tags it falls back to, by RFC 4647
// lookup: "zh-Hant-TW" -> zh-Hant-TW, zh-Hant, zh.
func Fallbacks(tag string) []string {
	out := []string{tag}
	for {
		i := strings.LastIndexByte(tag, '-')
		if i < 0 {
			return out
		}
		tag = tag[:i]
		// A single-letter subtag is an extension or private-use marker
		// and never stands alone (RFC 4647 §3.4).
		if j := strings.LastIndexByte(tag, '-'); j >= 0 && len(tag)-j-1 == 1 {
			tag = tag[:j]
		}
		out = append(out, tag)
	}
}

// PickLanguage returns the language to serve: the first of want, or of
// the shorter tags each falls back to, that has reports true for; else
// def. want is most preferred first (a request's accept-language, then
// the device's locale).
func PickLanguage(want []string, has func(tag string) bool, def string) string {
	for _, w := range want {
		for _, t := range Fallbacks(w) {
			if t == def || has(t) {
				return t
			}
		}
	}
	return def
}

// Languages are the catalog's languages: the default, which every
// category and recipe is written in, and the others editors translate to.
type Languages struct {
	Default string   `json:"default_language"`
	Others  []string `json:"languages,omitempty"`
}

// All returns the default language, then the others.
func (l Languages) All() []string { return append([]string{l.Default}, l.Others...) }

// Has reports whether tag is one of the catalog's languages.
func (l Languages) Has(tag string) bool {
	return tag == l.Default || slices.Contains(l.Others, tag)
}

// Validate returns a *ValidationError listing every problem with l.
func (l *Languages) Validate() error {
	var p problems
	validateLanguageKey(&p, "default_language", l.Default)
	if len(l.Others) > MaxLanguages {
		p.add("languages", "has %d languages; the limit is %d", len(l.Others), MaxLanguages)
	}
	for i, t := range l.Others {
		field := fmt.Sprintf("languages[%d]", i)
		switch {
		case !validateLanguageKey(&p, field, t):
		case t == l.Default:
			p.add(field, "%q is the default language; list only the others", t)
		case slices.Index(l.Others, t) != i:
			p.add(field, "%q is listed twice", t)
		}
	}
	return p.err("languages", "")
}
