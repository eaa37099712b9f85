package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseYAML is [Parse] for a YAML catalog file: the same fields, rules and
// problems, with lines from the YAML. A file may hold several documents
// (separated by "---"), each like one JSON file. Each record is turned into
// JSON and decoded exactly as [Parse] decodes it, so both formats accept
// the same catalogs.
func ParseYAML(name string, data []byte) (Catalog, error) {
	p := &yamlParser{file: name}
	p.records = recordDecoder{file: name, cat: &p.cat, problems: &p.problems}
	p.stream(data)
	p.problems = append(p.problems, p.cat.checkLanguages(name)...)
	p.problems = append(p.problems, duplicates(p.cat.records(), false)...)
	return p.cat, newProblemsError(p.problems)
}

type yamlParser struct {
	langSeen map[string]bool // top-level language fields, in any document
	file     string
	cat      Catalog
	problems []Problem
	records  recordDecoder
}

func (p *yamlParser) stream(data []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	docs, records := 0, 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.syntax(err)
			return
		}
		docs++
		records += p.document(&doc)
	}
	switch {
	case docs == 0:
		p.fileProblem(1, `is empty; want a mapping with "categories" and "recipes"`)
	case records == 0 && len(p.problems) == 0 && len(p.langSeen) == 0:
		p.fileProblem(1, noRecords)
	}
}

// document reads one document and returns how many record lists it has.
func (p *yamlParser) document(doc *yaml.Node) int {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		p.fileProblem(root.Line, `want a mapping with "categories" and "recipes"`)
		return 0
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch key := k.Value; {
		case key == schemaKey:
		case isLanguageKey(key) && p.langSeen[key]:
			p.fileProblem(k.Line, "%q appears twice", key)
		case isLanguageKey(key):
			if p.langSeen == nil {
				p.langSeen = make(map[string]bool)
			}
			p.langSeen[key] = true
			p.language(key, resolve(v))
		case listKind(key) == "":
			p.fileProblem(k.Line, "unknown field %q; want %s", key, listKeys)
		case seen[key]:
			p.fileProblem(k.Line, "%q appears twice", key)
		default:
			seen[key] = true
			p.list(key, resolve(v))
		}
	}
	return len(seen)
}

// language reads the top-level default_language or languages.
func (p *yamlParser) language(key string, n *yaml.Node) {
	str := func(n *yaml.Node) any {
		n = resolve(n)
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			return n.Value
		}
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.problems = append(p.problems, p.cat.declare(p.file, key, n.Line, str(n), nil, false)...)
		return
	}
	elems := make([]langValue, 0, len(n.Content))
	for _, e := range n.Content {
		elems = append(elems, langValue{str(e), resolve(e).Line})
	}
	p.problems = append(p.problems, p.cat.declare(p.file, key, n.Line, nil, elems, true)...)
}

// list reads the list of categories, recipes or devices under key.
func (p *yamlParser) list(key string, n *yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		p.fileProblem(n.Line, "%q must be a list", key)
		return
	}
	kind := listKind(key)
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			p.problems = append(p.problems, Problem{File: p.file, Line: item.Line, Kind: kind, Message: "must be a mapping of fields"})
			continue
		}
		var j yamlJSON
		j.value(item, "", 0)
		for _, d := range j.dups {
			p.problems = append(p.problems, Problem{File: p.file, Line: d.line, Kind: kind, ID: recordID(item, kind), Field: d.field, Message: "appears twice"})
		}
		if j.tooDeep {
			p.problems = append(p.problems, Problem{File: p.file, Line: item.Line, Kind: kind, ID: recordID(item, kind), Message: "is nested too deeply"})
			continue
		}
		raw := func() []byte { return j.buf.Bytes() }
		dec := json.NewDecoder(bytes.NewReader(j.buf.Bytes()))
		dec.DisallowUnknownFields()
		// yamlJSON writes valid JSON, so decode reports no syntax error.
		_ = p.records.decode(kind, dec, raw, j.lineAt)
	}
}

// recordID returns the slug or id of a record's mapping, as given.
func recordID(n *yaml.Node, kind string) string {
	key := "id"
	if kind == kindCategory {
		key = "slug"
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1]).Value
		}
	}
	return ""
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (p *yamlParser) syntax(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	p.fileProblem(line, "YAML syntax error: %s", strings.TrimPrefix(msg, "yaml: "))
}

func (p *yamlParser) fileProblem(line int, format string, args ...any) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Kind: kindFile, Message: fmt.Sprintf(format, args...)})
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// yamlJSON is one YAML record turned into JSON, with the YAML line of every
// key and value by the offset where it starts in the JSON.
type yamlJSON struct {
	buf     bytes.Buffer
	marks   []lineMark
	dups    []yamlDup
	tooDeep bool
}

type lineMark struct{ off, line int }

type yamlDup struct {
	field string
	line  int
}

// maxDepth bounds nesting, which aliases could otherwise multiply.
const maxDepth = 20

func (j *yamlJSON) mark(line int) {
	j.marks = append(j.marks, lineMark{j.buf.Len(), line})
}

// lineAt maps an offset in the JSON to the line of the YAML it came from.
func (j *yamlJSON) lineAt(off int) int {
	i := sort.Search(len(j.marks), func(i int) bool { return j.marks[i].off > off })
	if i == 0 {
		return j.marks[0].line
	}
	return j.marks[i-1].line
}

func (j *yamlJSON) value(n *yaml.Node, path string, depth int) {
	n = resolve(n)
	if depth > maxDepth {
		j.tooDeep = true
		j.buf.WriteString("null")
		return
	}
	j.mark(n.Line)
	switch n.Kind {
	case yaml.MappingNode:
		j.buf.WriteByte('{')
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			field := strings.TrimPrefix(path+"."+k.Value, ".")
			if seen[k.Value] {
				j.dups = append(j.dups, yamlDup{field, k.Line})
			}
			seen[k.Value] = true
			if i > 0 {
				j.buf.WriteByte(',')
			}
			j.mark(k.Line)
			j.str(k.Value)
			j.buf.WriteByte(':')
			j.value(n.Content[i+1], field, depth+1)
		}
		j.buf.WriteByte('}')
	case yaml.SequenceNode:
		j.buf.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				j.buf.WriteByte(',')
			}
			j.value(item, fmt.Sprintf("%s[%d]", path, i), depth+1)
		}
		j.buf.WriteByte(']')
	case yaml.ScalarNode:
		j.scalar(n)
	default:
		j.buf.WriteString("null")
	}
}

// scalar writes a YAML scalar as the JSON value of the same type: numbers
// stay numbers and quoted text stays text, so "servings: '4'" is reported
// as a string where a number belongs, as in JSON.
func (j *yamlJSON) scalar(n *yaml.Node) {
	switch n.ShortTag() {
	case "!!null":
		j.buf.WriteString("null")
		return
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			j.buf.WriteString(strconv.FormatBool(b))
			return
		}
	case "!!int", "!!float":
		if num, ok := numberJSON(n); ok {
			j.buf.WriteString(num)
			return
		}
	}
	j.str(n.Value)
}

// numberJSON returns YAML number n as JSON writes it: as written if JSON
// reads it so, else by its value (0x1F is 31, .5 is 0.5). It returns false
// for what JSON has no number for (.inf, .nan) and what does not decode.
func numberJSON(n *yaml.Node) (string, bool) {
	if jsonNumber(n.Value) {
		return n.Value, true
	}
	if n.ShortTag() == "!!int" {
		var i int64
		err := n.Decode(&i)
		return strconv.FormatInt(i, 10), err == nil
	}
	var f float64
	err := n.Decode(&f)
	return strconv.FormatFloat(f, 'g', -1, 64), err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

func (j *yamlJSON) str(s string) {
	b, _ := json.Marshal(s) // a string always encodes
	j.buf.Write(b)
}

var jsonNumberPattern = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// jsonNumber reports whether s is a number as JSON writes it.
func jsonNumber(s string) bool { return jsonNumberPattern.MatchString(s) }
