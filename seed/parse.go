package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// Parse decodes and checks one catalog file; name is used only to report
// problems. It reports, in one *ProblemsError: JSON syntax errors (decoding
// stops there), unknown fields, values of the wrong type, every problem
// [recipes.Category.Validate] and [recipes.Recipe.Validate] find, and slugs
// or ids used twice in the file. Whether each recipe's category exists is
// left to [Merge] and [Catalog.Validate], since it may be defined in another
// file. The records that could be decoded are returned even with problems.
func Parse(name string, data []byte) (Catalog, error) {
	p := &parser{file: name, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.document()
	p.problems = append(p.problems, duplicates(p.cat.records(), false)...)
	return p.cat, newProblemsError(p.problems)
}

type parser struct {
	file     string
	data     []byte
	dec      *json.Decoder
	cat      Catalog
	problems []Problem
}

// document reads the top-level object. It and the methods it calls return
// false after a syntax error, where decoding cannot go on.
func (p *parser) document() bool {
	start := p.next()
	tok, err := p.dec.Token()
	switch {
	case err == io.EOF:
		return p.fileProblem(0, `is empty; want a JSON object with "categories" and "recipes"`)
	case err != nil:
		return p.syntax(err)
	case tok != json.Delim('{'):
		return p.fileProblem(start, `want a JSON object with "categories" and "recipes"`)
	}
	seen := make(map[string]bool)
	for p.dec.More() {
		start := p.next()
		tok, err := p.dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		key, _ := tok.(string)
		ok := true
		switch {
		case key != "categories" && key != "recipes":
			p.fileProblem(start, `unknown field %q; want "categories" or "recipes"`, key)
			ok = p.skip()
		case seen[key]:
			p.fileProblem(start, "%q appears twice", key)
			ok = p.skip()
		default:
			seen[key] = true
			ok = p.array(key)
		}
		if !ok {
			return false
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	start = p.next()
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return p.syntax(err)
		}
		return p.fileProblem(start, "unexpected data after the top-level object")
	}
	if len(seen) == 0 {
		p.fileProblem(0, "has no categories and no recipes")
	}
	return true
}

// array reads the array of categories or recipes under key.
func (p *parser) array(key string) bool {
	if start := p.next(); start < len(p.data) && p.data[start] != '[' {
		p.fileProblem(start, "%q must be an array", key)
		return p.skip()
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	for p.dec.More() {
		start := p.next()
		var raw json.RawMessage
		if err := p.dec.Decode(&raw); err != nil {
			return p.syntax(err)
		}
		if key == "categories" {
			p.category(raw, start)
		} else {
			p.recipe(raw, start)
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	return true
}

func (p *parser) category(raw []byte, start int) {
	var c recipes.Category
	at := source{p.file, p.line(start)}
	if !p.decode(raw, start, &c, kindCategory, func() string { return c.Slug }, c.Validate) {
		return
	}
	p.cat.addCategory(c, at)
}

func (p *parser) recipe(raw []byte, start int) {
	var r recipes.Recipe
	at := source{p.file, p.line(start)}
	if !p.decode(raw, start, &r, kindRecipe, func() string { return r.ID }, r.Validate) {
		return
	}
	p.cat.addRecipe(r, at)
}

// decode fills v from the record raw found at offset start and reports its
// problems under its id. It returns false if raw is not an object at all.
func (p *parser) decode(raw []byte, start int, v any, kind string, id func() string, validate func() error) bool {
	at := source{p.file, p.line(start)}
	if raw[0] != '{' {
		p.problems = append(p.problems, Problem{File: at.file, Line: at.line, Kind: kind, Message: "must be a JSON object"})
		return false
	}
	sh := inspect(raw, v)
	var shapeProblems []Problem
	for _, is := range sh.unknown {
		shapeProblems = append(shapeProblems, Problem{File: p.file, Line: p.line(start + is.offset), Kind: kind, Field: is.field, Message: is.message})
	}
	if len(sh.unknown) == 0 {
		// inspect mirrors encoding/json's field matching; should the two
		// ever disagree, the decoder's own check still rejects the record.
		strict := json.NewDecoder(bytes.NewReader(raw))
		strict.DisallowUnknownFields()
		if err := strict.Decode(reflect.New(reflect.TypeOf(v).Elem()).Interface()); err != nil && strings.HasPrefix(err.Error(), "json: unknown field") {
			shapeProblems = append(shapeProblems, Problem{File: at.file, Line: at.line, Kind: kind, Message: strings.TrimPrefix(err.Error(), "json: ")})
		}
	}
	// Unknown fields are reported above, so decode leniently to go on and
	// validate everything else.
	var wrongType string
	if err := json.Unmarshal(raw, v); err != nil {
		is, ok := sh.typeIssue(err)
		shapeProblems = append(shapeProblems, Problem{File: p.file, Line: p.line(start + is.offset), Kind: kind, Field: is.field, Message: is.message})
		if !ok {
			// Decoding stopped part way, so Validate would only report
			// the fields that were never read.
			validate = func() error { return nil }
		}
		wrongType = is.field
	}
	for i := range shapeProblems {
		shapeProblems[i].ID = id()
	}
	p.problems = append(p.problems, shapeProblems...)
	for _, pr := range recordProblems(validate(), kind, id(), at) {
		// A value of the wrong type is left zero; don't report it twice.
		if wrongType == "" || !within(pr.Field, wrongType) {
			p.problems = append(p.problems, pr)
		}
	}
	return true
}

// next returns the offset where the decoder's next token starts.
func (p *parser) next() int {
	return skipSpace(p.data, int(p.dec.InputOffset()))
}

// line converts a byte offset in the file to a 1-based line number.
func (p *parser) line(off int) int {
	off = min(max(off, 0), len(p.data))
	return 1 + bytes.Count(p.data[:off], []byte("\n"))
}

func (p *parser) fileProblem(off int, format string, args ...any) bool {
	p.problems = append(p.problems, Problem{File: p.file, Line: p.line(off), Kind: kindFile, Message: fmt.Sprintf(format, args...)})
	return true
}

// syntax reports a decoding error; decoding cannot continue after it.
func (p *parser) syntax(err error) bool {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, up to and including the bad one.
		p.fileProblem(int(se.Offset)-1, "JSON syntax error: %s", se.Error())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		p.fileProblem(len(bytes.TrimRight(p.data, " \t\r\n")), "JSON syntax error: unexpected end of file")
	default:
		p.fileProblem(p.next(), "JSON syntax error: %s", err)
	}
	return false
}

// skip reads and ignores the next value.
func (p *parser) skip() bool {
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return p.syntax(err)
	}
	return true
}
