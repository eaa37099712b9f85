package seed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
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
	return parseText(name, &memText{data: data}, nil)
}

// progressEvery is how many records a parser reads between progress calls.
const progressEvery = 500

func parseText(name string, src text, progress func(off int)) (Catalog, error) {
	c, ps, ok := parseFast(name, src, progress)
	if !ok {
		// Something is wrong with the file's JSON: the decoder says
		// exactly what, and where.
		p := &parser{file: name, src: src, dec: json.NewDecoder(src.reader()), progress: progress}
		// Records are decoded straight from the file, strictly; a record
		// that fails is then read again to say exactly what is wrong.
		p.dec.DisallowUnknownFields()
		p.document()
		c, ps = p.cat, p.problems
	}
	ps = append(ps, duplicates(c.records(), false)...)
	return c, newProblemsError(ps)
}

type parser struct {
	file     string
	src      text
	dec      *json.Decoder
	cat      Catalog
	problems []Problem
	progress func(off int) // called now and then with the offset reached; may be nil
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
		case key == schemaKey:
			// Editors find the schema through it; nothing to load.
			ok = p.skip()
		case isLanguageKey(key) && seen[key]:
			p.fileProblem(start, "%q appears twice", key)
			ok = p.skip()
		case isLanguageKey(key):
			seen[key] = true
			ok = p.language(key)
		case listKind(key) == "":
			p.fileProblem(start, "unknown field %q; want %s", key, listKeys)
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
		p.fileProblem(0, noRecords)
	}
	p.problems = append(p.problems, p.cat.checkLanguages(p.file)...)
	return true
}

// language reads the top-level default_language or languages.
func (p *parser) language(key string) bool {
	start := p.next()
	line := p.line(start)
	if b := p.src.at(start); len(b) == 0 || b[0] != '[' {
		var v any
		if err := p.dec.Decode(&v); err != nil {
			return p.syntax(err)
		}
		p.problems = append(p.problems, p.cat.declare(p.file, key, line, v, nil, false)...)
		return true
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	var elems []langValue
	for p.dec.More() {
		at := p.line(p.next())
		var v any
		if err := p.dec.Decode(&v); err != nil {
			return p.syntax(err)
		}
		elems = append(elems, langValue{v, at})
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	p.problems = append(p.problems, p.cat.declare(p.file, key, line, nil, elems, true)...)
	return true
}

// array reads the array of categories, recipes or devices under key.
func (p *parser) array(key string) bool {
	if start := p.next(); start < p.src.size() && p.src.at(start)[0] != '[' {
		p.fileProblem(start, "%q must be an array", key)
		return p.skip()
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	kind := listKind(key)
	d := recordDecoder{file: p.file, cat: &p.cat, problems: &p.problems}
	for n := 0; p.dec.More(); n++ {
		start := p.next()
		if b := p.src.at(start); len(b) > 0 && b[0] != '{' {
			p.problems = append(p.problems, Problem{File: p.file, Line: p.line(start), Kind: kind, Message: "must be a JSON object"})
			if !p.skip() {
				return false
			}
			continue
		}
		err := d.decode(kind, p.dec, p.rawFrom(start), p.lineFrom(start))
		if isSyntax(err) {
			return p.syntax(err)
		}
		if n%progressEvery == 0 && p.progress != nil {
			p.progress(int(p.dec.InputOffset()))
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return p.syntax(err)
	}
	return true
}

// rawFrom returns a function reading the record from offset start to where
// the decoder is when it is called, for a record that must be decoded
// again: call it only right after the record was decoded.
func (p *parser) rawFrom(start int) func() []byte {
	return func() []byte { return p.src.slice(start, int(p.dec.InputOffset())) }
}

// lineFrom maps offsets within a record that starts at offset start of the
// file to lines of the file.
func (p *parser) lineFrom(start int) func(int) int {
	return func(off int) int { return p.src.line(start + off) }
}

// isSyntax reports whether err, from Decode, means the input is not JSON,
// rather than that a complete value did not fit the type.
func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// recordDecoder checks the records of one file, in whichever format. Each
// record comes decoded strictly (unknown fields are errors) into its type,
// with the error of that decoding, a function returning its JSON for a
// second look if that failed, and one mapping offsets within that JSON to
// lines of the file.
type recordDecoder struct {
	file     string
	cat      *Catalog
	problems *[]Problem
}

// decode decodes the next record of kind from dec and checks it, unless it
// is not JSON: then it returns the decoder's syntax error (see [isSyntax]).
func (d recordDecoder) decode(kind string, dec *json.Decoder, raw func() []byte, lineAt func(int) int) error {
	var err error
	switch kind {
	case kindCategory:
		var c recipes.Category
		if err = dec.Decode(&c); !isSyntax(err) {
			d.category(&c, err, raw, lineAt)
		}
	case kindDevice:
		var dev recipes.DeviceRecord
		if err = dec.Decode(&dev); !isSyntax(err) {
			d.device(&dev, err, raw, lineAt)
		}
	default:
		var r recipes.Recipe
		if err = dec.Decode(&r); !isSyntax(err) {
			d.recipe(&r, err, raw, lineAt)
		}
	}
	return err
}

func (d recordDecoder) category(c *recipes.Category, err error, raw func() []byte, lineAt func(int) int) {
	if d.check(c, err, raw, lineAt, kindCategory, func() string { return c.Slug }, c.Validate) {
		d.cat.addCategory(*c, source{d.file, lineAt(0)})
		if len(c.Translations) > 0 {
			d.cat.rememberTranslations(kindCategory, c.Slug, raw(), lineAt, slices.Collect(maps.Keys(c.Translations)))
		}
	}
}

func (d recordDecoder) recipe(r *recipes.Recipe, err error, raw func() []byte, lineAt func(int) int) {
	if d.check(r, err, raw, lineAt, kindRecipe, func() string { return r.ID }, r.Validate) {
		d.cat.addRecipe(*r, source{d.file, lineAt(0)})
		if len(r.Translations) > 0 {
			d.cat.rememberTranslations(kindRecipe, r.ID, raw(), lineAt, r.Languages())
		}
	}
}

func (d recordDecoder) device(dev *recipes.DeviceRecord, err error, raw func() []byte, lineAt func(int) int) {
	if d.check(dev, err, raw, lineAt, kindDevice, func() string { return dev.ID }, dev.Validate) {
		d.cat.addDevice(*dev, source{d.file, lineAt(0)})
	}
}

// check reports the problems of the record in v, a JSON object, under its
// id: nearly always only those Validate finds. It returns false if the
// record cannot be read after all.
func (d recordDecoder) check(v any, decodeErr error, rawFn func() []byte, lineAt func(int) int, kind string, id func() string, validate func() error) bool {
	at := source{d.file, lineAt(0)}
	if decodeErr == nil {
		ps := recordProblems(validate(), kind, id(), at)
		if len(ps) > 0 {
			fieldLines(ps, inspect(rawFn(), v), lineAt)
		}
		*d.problems = append(*d.problems, ps...)
		return true
	}
	raw := rawFn()
	if len(raw) == 0 || raw[0] != '{' {
		// The file changed while it was read.
		*d.problems = append(*d.problems, Problem{File: at.file, Line: at.line, Kind: kind, Message: "cannot be read again: " + decodeErr.Error()})
		return false
	}
	reflect.ValueOf(v).Elem().SetZero()

	sh := inspect(raw, v)
	var shapeProblems []Problem
	for _, is := range sh.unknown {
		msg := is.message
		if hint, ok := unknownFieldHint(kind, is.field); ok {
			msg = hint
		}
		shapeProblems = append(shapeProblems, Problem{File: d.file, Line: lineAt(is.offset), Kind: kind, Field: is.field, Message: msg})
	}
	if len(sh.unknown) == 0 && strings.HasPrefix(decodeErr.Error(), "json: unknown field") {
		// inspect mirrors encoding/json's field matching; should the two
		// ever disagree, the decoder's own check still rejects the record.
		shapeProblems = append(shapeProblems, Problem{File: at.file, Line: at.line, Kind: kind, Message: strings.TrimPrefix(decodeErr.Error(), "json: ")})
	}
	// Unknown fields are reported above, so decode leniently to go on and
	// validate everything else.
	var wrongType string
	if err := json.Unmarshal(raw, v); err != nil {
		is, ok := sh.typeIssue(err)
		shapeProblems = append(shapeProblems, Problem{File: d.file, Line: lineAt(is.offset), Kind: kind, Field: is.field, Message: is.message})
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
	*d.problems = append(*d.problems, shapeProblems...)
	ps := recordProblems(validate(), kind, id(), at)
	fieldLines(ps, sh, lineAt)
	for _, pr := range ps {
		// A value of the wrong type is left zero; don't report it twice.
		if wrongType == "" || !within(pr.Field, wrongType) {
			*d.problems = append(*d.problems, pr)
		}
	}
	return true
}

// fieldLines points each problem with a field that the record holds at
// the line of that field's value; the others keep the record's line.
func fieldLines(ps []Problem, sh shape, lineAt func(int) int) {
	for i := range ps {
		if ps[i].Field == "" {
			continue
		}
		for _, sp := range sh.spans {
			if sp.path == ps[i].Field {
				ps[i].Line = lineAt(sp.start)
				break
			}
		}
	}
}

// next returns the offset where the decoder's next token starts.
func (p *parser) next() int {
	return tokenStart(p.src, int(p.dec.InputOffset()))
}

// line converts a byte offset in the file to a 1-based line number.
func (p *parser) line(off int) int {
	return p.src.line(off)
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
		p.fileProblem(trimmedSize(p.src), "JSON syntax error: unexpected end of file")
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
