package seed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/recipesd/recipesd/recipes"
)

// Format is a catalog file format.
type Format string

// The formats [Write] writes and [ReadFiles] reads.
const (
	JSON Format = "json"
	YAML Format = "yaml"
)

// FormatOf returns the format a file name's extension names, and false for
// other extensions.
func FormatOf(name string) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return JSON, true
	case ".yaml", ".yml":
		return YAML, true
	}
	return "", false
}

// Write writes cats and recs as one catalog file in format f, in the order
// given, leaving out what the server sets (updated_at), so that reading the
// file back gives the same categories and recipes. JSON is laid out like
// the demo catalog: one line per category, ingredient and step. YAML starts
// a new document (---) every 1,000 recipes.
func Write(w io.Writer, f Format, cats []recipes.Category, recs []recipes.Recipe) error {
	return WriteCatalog(w, f, Catalog{Categories: cats, Recipes: recs})
}

// WriteCatalog is [Write] for a whole catalog: its languages (if it says
// any, first), its categories and recipes, then its devices, if it has any, in a "devices" list after the recipes
// (in YAML, documents of their own of up to 1,000 devices each).
func WriteCatalog(w io.Writer, f Format, c Catalog) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var err error
	switch f {
	case JSON:
		err = writeJSON(bw, c.Languages, c.Categories, c.Recipes, c.Devices)
	case YAML:
		err = writeYAML(bw, c.Languages, c.Categories, c.Recipes, c.Devices)
	default:
		return fmt.Errorf("seed: unknown format %q; want json or yaml", f)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("seed: write catalog: %w", err)
	}
	return nil
}

func writeJSON(w *bufio.Writer, langs *recipes.LanguagesDecl, cats []recipes.Category, recs []recipes.Recipe, devs []recipes.DeviceRecord) error {
	w.WriteString("{")
	if langs != nil {
		top, err := languagesJSON(langs)
		if err != nil {
			return err
		}
		w.WriteString(top)
	}
	w.WriteString("\n  \"categories\": [")
	if err := writeFlat(w, cats, fileCategory); err != nil {
		return err
	}
	w.WriteString(",\n  \"recipes\": [")
	for i := range recs {
		b, err := compact(fileRecipe(recs[i]))
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		if err := writeRecord(w, b); err != nil {
			return err
		}
	}
	w.WriteString(closeList(len(recs)))
	if len(devs) > 0 {
		w.WriteString(",\n  \"devices\": [")
		if err := writeFlat(w, devs, asIs); err != nil {
			return err
		}
	}
	_, err := w.WriteString("\n}\n")
	return err
}

// fileCategory and fileRecipe leave out of a record what the server sets;
// asIs is for records that have nothing of the kind.
func fileCategory(c recipes.Category) recipes.Category { c.UpdatedAt = time.Time{}; return c }
func fileRecipe(r recipes.Recipe) recipes.Recipe       { r.UpdatedAt = time.Time{}; return r }
func asIs[T any](v T) T                                { return v }

// writeFlat writes the records of a list opened by the caller, one per
// line (they hold no nested lists worth breaking up), and closes it.
func writeFlat[T any](w *bufio.Writer, items []T, prep func(T) T) error {
	for i, v := range items {
		b, err := compact(prep(v))
		if err != nil {
			return err
		}
		if i > 0 {
			w.WriteByte(',')
		}
		w.WriteString("\n    ")
		w.Write(spaced(b))
	}
	w.WriteString(closeList(len(items)))
	return nil
}

func closeList(n int) string {
	if n == 0 {
		return "]"
	}
	return "\n  ]"
}

// writeRecord writes the JSON object b with one member per line and each
// object of an array member on a line of its own.
func writeRecord(w *bufio.Writer, b []byte) error {
	members, err := objectMembers(b)
	if err != nil {
		return err
	}
	w.WriteString("{")
	for i, m := range members {
		if i > 0 {
			w.WriteByte(',')
		}
		fmt.Fprintf(w, "\n      %s: ", m.key)
		if len(m.val) < 3 || m.val[0] != '[' || m.val[1] != '{' {
			w.Write(spaced(m.val))
			continue
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(m.val, &elems); err != nil {
			return err
		}
		w.WriteString("[")
		for j, e := range elems {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteString("\n        ")
			w.Write(spaced(e))
		}
		w.WriteString("\n      ]")
	}
	_, err = w.WriteString("\n    }")
	return err
}

type member struct {
	key []byte // as JSON, quoted
	val json.RawMessage
}

// objectMembers splits a JSON object into its members, in order.
func objectMembers(b []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := json.Marshal(tok)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		ms = append(ms, member{key, val})
	}
	return ms, nil
}

// compact encodes v as JSON without escaping <, > and &, which are fine
// in a file and easier to read.
func compact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// spaced adds a space after every colon and comma of compact JSON outside
// strings: {"name": "salt", "quantity": 1}.
func spaced(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/8)
	inString, escaped := false, false
	for _, c := range b {
		out = append(out, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ':' || c == ','):
			out = append(out, ' ')
		}
	}
	return out
}

func writeYAML(w *bufio.Writer, langs *recipes.LanguagesDecl, cats []recipes.Category, recs []recipes.Recipe, devs []recipes.DeviceRecord) error {
	if langs != nil {
		// JSON strings are YAML flow scalars: tags need no more quoting.
		if langs.Default != "" {
			fmt.Fprintf(w, "%s: %s\n", defaultLanguageKey, langs.Default)
		}
		if langs.OthersGiven {
			fmt.Fprintf(w, "%s: [%s]\n", languagesKey, strings.Join(langs.Others, ", "))
		}
	}
	w.WriteString("categories:")
	if err := yamlList(w, cats, fileCategory); err != nil {
		return err
	}
	// A new document every yamlDocument recipes: a reader parses a YAML
	// document as one tree, which for a big catalog would not fit.
	for start := 0; start == 0 || start < len(recs); start += yamlDocument {
		if start > 0 {
			w.WriteString("---\n")
		}
		w.WriteString("recipes:")
		if err := yamlList(w, recs[start:min(start+yamlDocument, len(recs))], fileRecipe); err != nil {
			return err
		}
	}
	for start := 0; start < len(devs); start += yamlDocument {
		w.WriteString("---\ndevices:")
		if err := yamlList(w, devs[start:min(start+yamlDocument, len(devs))], asIs); err != nil {
			return err
		}
	}
	return nil
}

// yamlDocument is how many recipes, or devices, a YAML document holds at
// most.
const yamlDocument = 1000

// yamlList writes items, each made a record by prep, as a block sequence
// indented under the key just written, encoding a batch at a time so that a
// big catalog is never one tree in memory.
func yamlList[T any](w *bufio.Writer, items []T, prep func(T) T) error {
	n := len(items)
	if n == 0 {
		_, err := w.WriteString(" []\n")
		return err
	}
	w.WriteString("\n")
	const batch = 200
	var buf bytes.Buffer
	for start := 0; start < n; start += batch {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for i := start; i < min(start+batch, n); i++ {
			item, err := yamlRecord(prep(items[i]))
			if err != nil {
				return err
			}
			list.Content = append(list.Content, item)
		}
		buf.Reset()
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(list); err != nil {
			return err
		}
		if err := enc.Close(); err != nil {
			return err
		}
		for line := range bytes.Lines(buf.Bytes()) {
			w.WriteString("  ")
			w.Write(line)
		}
	}
	return nil
}

// yamlRecord turns a category or recipe into a YAML mapping with the fields
// in JSON order, arrays of scalars and the objects inside arrays in flow
// style: tags: [vegan, quick] and - {name: salt, quantity: 1}.
func yamlRecord(v any) (*yaml.Node, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return yamlValue(dec, 0)
}

func yamlValue(dec *json.Decoder, depth int) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.MappingNode}
		if t == '[' {
			n.Kind = yaml.SequenceNode
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, yamlString(key.(string)))
			}
			v, err := yamlValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		if depth >= 2 || n.Kind == yaml.SequenceNode && !hasCollections(n) {
			n.Style = yaml.FlowStyle
		}
		return n, nil
	case string:
		return yamlString(t), nil
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
}

func hasCollections(n *yaml.Node) bool {
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return true
		}
	}
	return false
}

func yamlString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}
