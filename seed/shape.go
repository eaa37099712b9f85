package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// issue is a problem at a byte offset within one record.
type issue struct {
	field   string
	offset  int
	message string
}

// span is where the value at a path lies within one record.
type span struct {
	path       string
	start, end int
}

// shape is what inspect learns about a record's JSON.
type shape struct {
	unknown []issue // object keys the Go type has no field for
	spans   []span  // every value, parents before children
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// inspect walks raw, which is valid JSON, alongside the type of *v, finding
// every unknown field with its exact path and offset. encoding/json's
// DisallowUnknownFields stops at the first and gives no position.
func inspect(raw []byte, v any) shape {
	var sh shape
	dec := json.NewDecoder(bytes.NewReader(raw))
	var walk func(t reflect.Type, path string) error
	walk = func(t reflect.Type, path string) error {
		start := skipSpace(raw, int(dec.InputOffset()))
		i := len(sh.spans)
		sh.spans = append(sh.spans, span{path: path, start: start})
		defer func() { sh.spans[i].end = int(dec.InputOffset()) }()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
			t = nil // decodes itself; don't look inside
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := tok.(string)
				sub := strings.TrimPrefix(path+"."+key, ".")
				var ft reflect.Type
				if t != nil && t.Kind() == reflect.Struct {
					var ok bool
					if ft, ok = fieldType(t, key); !ok {
						sh.unknown = append(sh.unknown, issue{sub, int(dec.InputOffset()) - 1, "unknown field; known fields are " + strings.Join(fieldNames(t), ", ")})
					}
				}
				if err := walk(ft, sub); err != nil {
					return err
				}
			}
		case json.Delim('['):
			var et reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				et = t.Elem()
			}
			for n := 0; dec.More(); n++ {
				if err := walk(et, fmt.Sprintf("%s[%d]", path, n)); err != nil {
					return err
				}
			}
		default:
			return nil
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	_ = walk(reflect.TypeOf(v), "") // raw was decoded once already; it is valid
	return sh
}

// typeIssue locates an error of json.Unmarshal at the deepest value holding
// it, so that the path has indices ("steps[1].speed") where the error's own
// Field has none. It returns false for errors other than a value of the
// wrong type, after which json.Unmarshal stops; those have no position.
func (sh shape) typeIssue(err error) (issue, bool) {
	te, ok := err.(*json.UnmarshalTypeError)
	if !ok {
		return issue{message: "cannot decode: " + err.Error()}, false
	}
	is := issue{field: te.Field, offset: max(int(te.Offset)-1, 0)}
	for _, s := range sh.spans {
		if s.start <= is.offset && is.offset < s.end && s.path != "" {
			is.field = s.path
		}
	}
	got := te.Value
	if n, ok := strings.CutPrefix(got, "number "); ok {
		got = n
	} else {
		got = article(got)
	}
	is.message = fmt.Sprintf("must be %s, not %s", describe(te.Type), got)
	return is, true
}

// describe names what JSON a value of type t needs.
func describe(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Pointer:
		return describe(t.Elem())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

func article(jsonKind string) string {
	switch jsonKind {
	case "object", "array":
		return "an " + jsonKind
	case "bool":
		return jsonKind
	}
	return "a " + jsonKind
}

// fieldType finds the struct field encoding/json would decode key into:
// the exact name, or else one that matches ignoring case.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	var fold reflect.Type
	for f := range t.Fields() {
		switch name := jsonName(f); {
		case name == "":
		case name == key:
			return f.Type, true
		case fold == nil && strings.EqualFold(name, key):
			fold = f.Type
		}
	}
	return fold, fold != nil
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if name := jsonName(f); name != "" {
			names = append(names, name)
		}
	}
	return names
}

// jsonName is the JSON name of f, or "" if encoding/json ignores it.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	switch name {
	case "-":
		return ""
	case "":
		return f.Name
	}
	return name
}

// within reports whether field is path or lies inside it.
func within(field, path string) bool {
	rest, ok := strings.CutPrefix(field, path)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

func skipSpace(b []byte, off int) int {
	for off < len(b) && bytes.IndexByte([]byte(" \t\r\n,:"), b[off]) >= 0 {
		off++
	}
	return off
}
