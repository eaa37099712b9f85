package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// A catalog file may say which languages the catalog has, at its top
// level:
//
//	"default_language": "en",
//	"languages": ["de", "fr-CA"],
//
// both optional. default_language is the language the categories' and
// recipes' own fields are written in (absent: the store's stays);
// languages are the others translations may be written in (absent: the
// store's, or none with -prune, plus every language the files'
// translations use). Seeding writes them together with the content.
const (
	defaultLanguageKey = "default_language"
	languagesKey       = "languages"
	kindLanguages      = "languages" // the Kind of the store's problems with them
)

func isLanguageKey(key string) bool { return key == defaultLanguageKey || key == languagesKey }

// langValue is one value of a top-level language field as read, with the
// line it starts on.
type langValue struct {
	v    any // string when well typed
	line int
}

// declare records the top-level language field key, whose value starts at
// line: a string for default_language, else elems, the elements of an
// array (nil if the value is no array). It returns the problems found.
func (c *Catalog) declare(file, key string, line int, v any, elems []langValue, isArray bool) []Problem {
	problem := func(line int, field, format string, args ...any) Problem {
		return Problem{File: file, Line: line, Kind: kindFile, Field: field, Message: fmt.Sprintf(format, args...)}
	}
	if c.Languages == nil {
		c.Languages = &recipes.LanguagesDecl{}
	}
	c.remember(srcKey{kindLanguages, ""}, source{file, line})
	var ps []Problem
	if key == defaultLanguageKey {
		s, ok := v.(string)
		if !ok {
			return []Problem{problem(line, key, "must be a string: a BCP 47 language tag like en or de-AT")}
		}
		if msg := tagProblem(s); msg != "" {
			return []Problem{problem(line, key, "%s", msg)}
		}
		c.Languages.Default = s
		return nil
	}
	if !isArray {
		return []Problem{problem(line, key, `must be an array of BCP 47 language tags like ["de", "fr-CA"]`)}
	}
	c.Languages.OthersGiven = true
	c.Languages.Others = []string{}
	c.langLines = nil
	for i, e := range elems {
		field := fmt.Sprintf("%s[%d]", key, i)
		s, ok := e.v.(string)
		switch {
		case !ok:
			ps = append(ps, problem(e.line, field, "must be a string: a BCP 47 language tag like de or fr-CA"))
		case tagProblem(s) != "":
			ps = append(ps, problem(e.line, field, "%s", tagProblem(s)))
		case slices.Contains(c.Languages.Others, s):
			ps = append(ps, problem(e.line, field, "%q is listed twice", s))
		default:
			c.Languages.Others = append(c.Languages.Others, s)
			c.langLines = append(c.langLines, e.line)
		}
	}
	return ps
}

// tagProblem says what is wrong with a language tag in a file, or "".
func tagProblem(s string) string {
	canon, err := recipes.ParseLanguage(s)
	switch {
	case err != nil:
		return err.Error()
	case canon != s:
		return fmt.Sprintf("write the language tag %q as %q", s, canon)
	}
	return ""
}

// checkLanguages reports a default language also listed among the others,
// once a file (or all files) are read.
func (c *Catalog) checkLanguages(file string) []Problem {
	d := c.Languages
	if d == nil || d.Default == "" {
		return nil
	}
	i := slices.Index(d.Others, d.Default)
	if i < 0 {
		return nil
	}
	line := 0
	if i < len(c.langLines) {
		line = c.langLines[i]
	}
	return []Problem{{File: file, Line: line, Kind: kindFile, Field: fmt.Sprintf("%s[%d]", languagesKey, i),
		Message: fmt.Sprintf("%q is the default language; list only the others", d.Default)}}
}

// mergeLanguages combines the language fields of several files: each may
// be given by one file, or by several that agree.
func (m *Catalog) mergeLanguages(p *Catalog) []Problem {
	d := p.Languages
	if d == nil {
		return nil
	}
	at := firstSource(p.src[srcKey{kindLanguages, ""}])
	if m.Languages == nil {
		cp := *d
		cp.Others = slices.Clone(d.Others)
		m.Languages = &cp
		m.langLines = p.langLines
		m.remember(srcKey{kindLanguages, ""}, at)
		return nil
	}
	first := firstSource(m.src[srcKey{kindLanguages, ""}])
	var ps []Problem
	differ := func(field, got, want string) {
		ps = append(ps, Problem{File: at.file, Line: at.line, Kind: kindFile, Field: field,
			Message: fmt.Sprintf("%s differs from %s at %s; give the catalog's languages once, or the same in every file", got, want, first)})
	}
	switch {
	case d.Default == "":
	case m.Languages.Default == "":
		m.Languages.Default = d.Default
	case m.Languages.Default != d.Default:
		differ(defaultLanguageKey, fmt.Sprintf("%q", d.Default), fmt.Sprintf("%q", m.Languages.Default))
	}
	switch {
	case !d.OthersGiven:
	case !m.Languages.OthersGiven:
		m.Languages.Others, m.Languages.OthersGiven, m.langLines = slices.Clone(d.Others), true, p.langLines
	case !slices.Equal(m.Languages.Others, d.Others):
		differ(languagesKey, "["+strings.Join(d.Others, ", ")+"]", "["+strings.Join(m.Languages.Others, ", ")+"]")
	}
	return ps
}

func firstSource(s []source) source {
	if len(s) == 0 {
		return source{}
	}
	return s[0]
}

// syncLanguages is what [Sync] tells the store about the catalog's
// languages: what the files say or, if they say nothing but hold
// translations, that the languages those use are declared; nil when
// neither, which leaves the store's languages as they are.
func (c *Catalog) syncLanguages() *recipes.LanguagesDecl {
	if c.Languages != nil {
		return c.Languages
	}
	for i := range c.Categories {
		if len(c.Categories[i].Translations) > 0 {
			return &recipes.LanguagesDecl{}
		}
	}
	for i := range c.Recipes {
		if len(c.Recipes[i].Translations) > 0 {
			return &recipes.LanguagesDecl{}
		}
	}
	return nil
}

// rememberTranslations notes the line of each translation of a record,
// so that the store's problems with it (a language the catalog does not
// have) point at it. raw is the record's JSON; lineAt maps offsets in it
// to lines. It looks for each tag's key after the record's
// "translations" key with a plain search, which a text quoting such a key
// could only fool into pointing at another line of the same record:
// decoding and checking the record are what matter, and this runs for
// every translated record of a big seed.
func (c *Catalog) rememberTranslations(kind, id string, raw []byte, lineAt func(int) int, tags []string) {
	from := bytes.Index(raw, []byte(`"translations":`))
	if from < 0 {
		return
	}
	if c.trLines == nil {
		c.trLines = make(map[srcKey]int)
	}
	var key []byte
	for _, tag := range tags {
		key = append(append(append(key[:0], '"'), tag...), '"')
		off := bytes.Index(raw[from:], key)
		if off < 0 {
			continue
		}
		c.trLines[translationKey(kind, id, tag)] = lineAt(from + off)
	}
}

func translationKey(kind, id, tag string) srcKey {
	return srcKey{kind, id + "\x00" + tag}
}

// translationLine returns the line of the translation a store's problem
// with field ("translations.de.title") of kind and id is about.
func translationLine(lines map[srcKey]int, kind, id, field string) (int, bool) {
	rest, ok := strings.CutPrefix(field, "translations.")
	if !ok {
		return 0, false
	}
	tag, _, _ := strings.Cut(rest, ".")
	line, ok := lines[translationKey(kind, id, tag)]
	return line, ok
}

// languagesJSON is the top of a catalog file that says its languages.
func languagesJSON(d *recipes.LanguagesDecl) (string, error) {
	var b strings.Builder
	if d.Default != "" {
		v, err := json.Marshal(d.Default)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n  %q: %s,", defaultLanguageKey, v)
	}
	if d.OthersGiven {
		v, err := json.Marshal(d.Others)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "\n  %q: %s,", languagesKey, spaced(v))
	}
	return b.String(), nil
}
