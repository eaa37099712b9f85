package seed

import (
	"encoding/json"
	"maps"
)

// parseFast parses a catalog file whose JSON is well formed, which is
// nearly every file and the one that matters for speed: it finds where each
// record starts and ends with a plain byte scan, and decodes and checks the
// records on every CPU (see [decodePool]). It gives up, returning false, at
// anything unusual (a JSON syntax error, an unknown top-level field, a
// record that is not an object, an empty file...), which the decoder of
// [parser] then reports precisely. The problems it returns are those of the
// records, without duplicates, which the caller checks.
func parseFast(file string, src text, progress func(off int)) (Catalog, []Problem, bool) {
	f := &fastParser{scan: scanner{t: src}, file: file, progress: progress}
	ok := f.document()
	if !ok {
		return Catalog{}, nil, false
	}
	return f.cat, f.problems, true
}

type fastParser struct {
	scan     scanner
	file     string
	progress func(off int)
	cat      Catalog
	problems []Problem
}

func (f *fastParser) document() bool {
	s := &f.scan
	if !s.next('{') {
		return false
	}
	seen := map[string]bool{}
	ok := s.members('}', func(int, byte) bool {
		key, ok := s.key()
		switch {
		case !ok || seen[key]:
			return false
		case key == schemaKey:
			if c, ok := s.peek(); !ok || c != '"' {
				return false
			}
			_, ok := s.value()
			return ok
		case listKind(key) != "":
			seen[key] = true
			return f.array(key)
		case isLanguageKey(key):
			seen[key] = true
			return f.language(key)
		}
		return false
	})
	if _, more := s.peek(); !ok || more || len(seen) == 0 {
		return false // not JSON, trailing data, or nothing in the file
	}
	f.problems = append(f.problems, f.cat.checkLanguages(f.file)...)
	return true
}

// language reads the top-level default_language (a string) or languages
// (an array of strings); anything else, or a problem, is left to the
// decoder of [parser] to report.
func (f *fastParser) language(key string) bool {
	s := &f.scan
	c, ok := s.peek()
	if !ok {
		return false
	}
	line := s.t.line(s.off)
	decode := func() (any, bool) {
		if c, ok := s.peek(); !ok || c != '"' {
			return nil, false
		}
		start := s.off
		end, ok := s.value()
		var v string
		if !ok || json.Unmarshal(s.t.slice(start, end), &v) != nil {
			return nil, false
		}
		return v, true
	}
	var ps []Problem
	if key == defaultLanguageKey {
		v, ok := decode()
		if !ok {
			return false
		}
		ps = f.cat.declare(f.file, key, line, v, nil, false)
	} else {
		if c != '[' || !s.next('[') {
			return false
		}
		var elems []langValue
		if !s.members(']', func(int, byte) bool {
			at := s.t.line(s.off)
			v, ok := decode()
			elems = append(elems, langValue{v, at})
			return ok
		}) {
			return false
		}
		ps = f.cat.declare(f.file, key, line, nil, elems, true)
	}
	return len(ps) == 0
}

// array reads the records of one array, handing them to a decode pool.
func (f *fastParser) array(key string) bool {
	s := &f.scan
	if !s.next('[') {
		return false
	}
	pool := newDecodePool(f.file, listKind(key))
	defer pool.close()
	ok := s.members(']', func(n int, c byte) bool {
		if c != '{' {
			return false
		}
		start := s.off
		end, ok := s.value()
		if !ok || !f.merge(pool.add(s.t.slice(start, end), s.t.line(start))) {
			return false
		}
		if n%progressEvery == 0 && f.progress != nil {
			f.progress(end)
		}
		return true
	})
	return ok && f.merge(pool.drain())
}

// merge adds decoded batches to the catalog, in order; it returns false if
// a record turned out not to be JSON.
func (f *fastParser) merge(done []*batch) bool {
	for _, b := range done {
		if b.syntax {
			return false
		}
		f.cat.Categories = append(f.cat.Categories, b.cat.Categories...)
		f.cat.Recipes = append(f.cat.Recipes, b.cat.Recipes...)
		f.cat.Devices = append(f.cat.Devices, b.cat.Devices...)
		for k, at := range b.cat.src {
			for _, a := range at {
				f.cat.remember(k, a)
			}
		}
		if len(b.cat.trLines) > 0 && f.cat.trLines == nil {
			f.cat.trLines = make(map[srcKey]int)
		}
		maps.Copy(f.cat.trLines, b.cat.trLines)
		f.problems = append(f.problems, b.problems...)
	}
	return true
}

// scanner finds JSON tokens and the extent of values in a text without
// decoding them; the decoder checks their insides.
type scanner struct {
	t   text
	off int
}

// peek skips white space and returns the next byte.
func (s *scanner) peek() (byte, bool) {
	for {
		b := s.t.at(s.off)
		if len(b) == 0 {
			return 0, false
		}
		for i, c := range b {
			if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				s.off += i
				return c, true
			}
		}
		s.off += len(b)
	}
}

// next consumes c, the next byte after white space, or returns false.
func (s *scanner) next(c byte) bool {
	if got, ok := s.peek(); !ok || got != c {
		return false
	}
	s.off++
	return true
}

// members calls each for every member of the object or array whose
// opening bracket was read, with its index and first byte, past the comma
// before it; each reads the member. members moves past the closing bracket
// and returns false as soon as each does or the text is not JSON.
func (s *scanner) members(closing byte, each func(n int, c byte) bool) bool {
	for n := 0; ; n++ {
		c, ok := s.peek()
		switch {
		case !ok:
			return false
		case c == closing:
			s.off++
			return true
		case n > 0:
			if c != ',' {
				return false
			}
			s.off++
			if c, ok = s.peek(); !ok {
				return false
			}
		}
		if !each(n, c) {
			return false
		}
	}
}

// key reads an object key and its colon.
func (s *scanner) key() (string, bool) {
	if c, ok := s.peek(); !ok || c != '"' {
		return "", false
	}
	start := s.off
	end, ok := s.value()
	if !ok {
		return "", false
	}
	var key string
	if err := json.Unmarshal(s.t.slice(start, end), &key); err != nil {
		return "", false
	}
	return key, s.next(':')
}

// value finds the end of the string, object or array that starts at s.off
// and moves past it. Inside objects and arrays it only matches brackets
// outside strings; whether the value is valid JSON is the decoder's to say.
func (s *scanner) value() (end int, ok bool) {
	depth, inString, escaped := 0, false, false
	for off := s.off; ; {
		b := s.t.at(off)
		if len(b) == 0 {
			return 0, false
		}
		for i, c := range b {
			switch {
			case escaped:
				escaped = false
			case inString:
				if c == '\\' {
					escaped = true
				} else if c == '"' {
					inString = false
					if depth == 0 {
						s.off = off + i + 1
						return s.off, true
					}
				}
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
				if depth == 0 {
					s.off = off + i + 1
					return s.off, true
				}
				if depth < 0 {
					return 0, false
				}
			case depth == 0:
				return 0, false // not a string, object or array
			}
		}
		off += len(b)
	}
}
