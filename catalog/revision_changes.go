package catalog

import (
	"bytes"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// changedMembers names the top-level JSON members in which b differs from
// a, updated_at aside, with "translations.<lang>" for each language whose
// words differ. It compares the members' bytes, which encoding/json
// writes the same way for the same values, so it needs no decode: once
// both are known to be JSON, it only finds where members start and end (a
// seed compares 100,000 recipes; decoding them into maps cost more than
// the rest of its plan). It returns nil if either is not JSON.
func changedMembers(a, b []byte) []string {
	if !json.Valid(b) {
		return nil
	}
	return changedFrom(a, b)
}

// changedFrom is [changedMembers] of b, which is JSON this package
// encoded (so checking it again is not needed).
func changedFrom(a, b []byte) []string {
	if !json.Valid(a) || !isObject(a) || !isObject(b) {
		return changedMembersDecoded(a, b)
	}
	var bufA, bufB [32]member
	ma, okA := objectMembers(a, bufA[:0])
	mb, okB := objectMembers(b, bufB[:0])
	if !okA || !okB {
		return changedMembersDecoded(a, b)
	}
	var out []string
	for key := range unionKeys(ma, mb) {
		va, vb := memberValue(ma, key), memberValue(mb, key)
		if string(key) == "updated_at" || bytes.Equal(va, vb) {
			continue
		}
		if string(key) != "translations" {
			out = append(out, string(key))
			continue
		}
		var bufTA, bufTB [8]member
		ta, okA := objectMembers(va, bufTA[:0])
		tb, okB := objectMembers(vb, bufTB[:0])
		if !okA || !okB {
			return changedMembersDecoded(a, b)
		}
		for lang := range unionKeys(ta, tb) {
			if !bytes.Equal(memberValue(ta, lang), memberValue(tb, lang)) {
				out = append(out, "translations."+string(lang))
			}
		}
	}
	slices.Sort(out)
	return out
}

// changedMembersDecoded is [changedMembers] by decoding, for JSON whose
// keys have escapes, which [objectMembers] leaves to encoding/json.
func changedMembersDecoded(a, b []byte) []string {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return nil
	}
	var out []string
	for k := range union(ma, mb) {
		if k == "updated_at" || bytes.Equal(ma[k], mb[k]) {
			continue
		}
		if k != "translations" {
			out = append(out, k)
			continue
		}
		var ta, tb map[string]json.RawMessage
		_ = json.Unmarshal(ma[k], &ta)
		_ = json.Unmarshal(mb[k], &tb)
		for lang := range union(ta, tb) {
			if !bytes.Equal(ta[lang], tb[lang]) {
				out = append(out, "translations."+lang)
			}
		}
	}
	slices.Sort(out)
	return out
}

// member is one member of a JSON object: its key, unquoted, and its value
// as written.
type member struct{ key, val []byte }

// objectMembers appends the top-level members of data, which must be
// valid JSON, to dst. A value that is not an object has none (as
// decoding it into a map gives none). ok is false if a key has an escape
// or a byte beyond ASCII, which only encoding/json should unquote.
func objectMembers(data []byte, dst []member) (_ []member, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst, true
	}
	i++
	for {
		i = skipSpace(data, i)
		switch data[i] {
		case '}':
			return dst, true
		case ',':
			i = skipSpace(data, i+1)
		}
		// data[i] is the opening quote of a key.
		end := i + 1
		for data[end] != '"' {
			if data[end] == '\\' || data[end] >= utf8.RuneSelf {
				return dst, false // escaped, or perhaps not UTF-8: decode
			}
			end++
		}
		key := data[i+1 : end]
		i = skipSpace(data, end+1) + 1 // past the colon
		i = skipSpace(data, i)
		vend := valueEnd(data, i)
		dst = append(dst, member{key, data[i:vend]})
		i = vend
	}
}

// valueEnd returns where the JSON value that starts at data[i] ends; data
// is valid JSON.
func valueEnd(data []byte, i int) int {
	depth := 0
	for j := i; j < len(data); j++ {
		c := data[j]
		switch {
		case c == '"':
			// Skip to the closing quote: the first not preceded by an
			// odd number of backslashes.
			for {
				k := bytes.IndexByte(data[j+1:], '"')
				if k < 0 {
					return len(data)
				}
				j += 1 + k
				bs := 0
				for data[j-1-bs] == '\\' {
					bs++
				}
				if bs%2 == 0 {
					break
				}
			}
			if depth == 0 {
				return j + 1
			}
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j // the end of a literal at the end of its object
			}
			if depth--; depth == 0 {
				return j + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j // the end of a number, true, false or null
		}
	}
	return len(data)
}

func isObject(data []byte) bool {
	i := skipSpace(data, 0)
	return i < len(data) && data[i] == '{'
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// memberValue returns the value of key in ms, the last one if given twice
// (as decoding does), or nil.
func memberValue(ms []member, key []byte) []byte {
	for i := len(ms) - 1; i >= 0; i-- {
		if bytes.Equal(ms[i].key, key) {
			return ms[i].val
		}
	}
	return nil
}

// unionKeys yields each key of a, then each of b not in a, once.
func unionKeys(a, b []member) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for i, m := range a {
			if memberValue(a[:i], m.key) == nil && !yield(m.key) {
				return
			}
		}
		for i, m := range b {
			if memberValue(b[:i], m.key) == nil && memberValue(a, m.key) == nil && !yield(m.key) {
				return
			}
		}
	}
}

func union(a, b map[string]json.RawMessage) map[string]struct{} {
	out := make(map[string]struct{}, len(a)+len(b))
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}
