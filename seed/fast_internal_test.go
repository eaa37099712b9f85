package seed

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// parseSlow parses with the decoder alone, as parseText does when the fast
// path gives up.
func parseSlow(name string, data []byte) (Catalog, []Problem) {
	p := &parser{file: name, src: &memText{data: data}, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.DisallowUnknownFields()
	p.document()
	return p.cat, p.problems
}

// TestParseFast checks that the fast path finds what the decoder finds,
// record for record and problem for problem, and gives up where it should.
func TestParseFast(t *testing.T) {
	rec := func(id, extra string) string {
		return `{"id": "` + id + `", "category": "soups", "title": "Soup", "servings": 4, "total_minutes": 30, "difficulty": "easy",` + extra +
			"\n  \"ingredients\": [{\"name\": \"water\", \"quantity\": 1, \"unit\": \"l\"}], \"steps\": [{\"text\": \"Boil.\", \"speed\": 1}]}"
	}
	var many []string
	for i := range 1000 {
		extra := ""
		switch i % 97 {
		case 3:
			extra = ` "servings": "four",`
		case 5:
			extra = "\n \"temp\": 1,"
		case 7:
			extra = ` "models": ["CM-1"],`
		}
		many = append(many, rec(fmt.Sprintf("soup-%04d", i), extra))
	}
	tests := []struct {
		name string
		data string
		fast bool
	}{
		{"Many", "{\"$schema\": \"x\", \"categories\": [{\"slug\": \"soups\", \"name\": \"Soups\"}],\n\"recipes\": [\n" + strings.Join(many, ",\n") + "\n]}\n", true},
		{"Devices", "{\"recipes\": [" + rec("a", "") + "],\n\"devices\": [\n" + strings.Join([]string{
			`{"id": "oven-1", "model": "CM-300", "enabled": false, "secret_hash": "sha256:` + strings.Repeat("ab", 32) + `"}`,
			`{"id": "oven 2", "model": "CM-900", "secret_hash": "sha256:AB"}`,
			"{\"id\": \"oven-3\",\n \"model\": \"CM-100\", \"secret\": \"x\"}",
			`{"id": "oven-1", "model": "CM-100", "enabled": "yes"}`,
		}, ",\n") + "\n]}\n", true},
		{"Escapes", `{"recipes": [` + rec(`a-\"}]`, ` "summary": "{[\"\\\"]}",`) + `]}`, true},
		{"Empty", "  ", false},
		{"NoRecords", "{}", false},
		{"UnknownKey", `{"recipe": []}`, false},
		{"KeyTwice", `{"recipes": [], "recipes": []}`, false},
		{"NotAnArray", `{"recipes": {}}`, false},
		{"NotAnObject", `{"recipes": [42]}`, false},
		{"SyntaxInRecord", `{"recipes": [` + rec("a", ` "x": ,`) + `]}`, false},
		{"MissingComma", `{"recipes": [` + rec("a", "") + rec("b", "") + `]}`, false},
		{"Trailing", `{"recipes": []} {}`, false},
		{"Truncated", `{"recipes": [` + rec("a", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ps, ok := parseFast("a.json", &memText{data: []byte(tt.data)}, nil)
			if ok != tt.fast {
				t.Fatalf("parseFast ok = %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			want, wantPs := parseSlow("a.json", []byte(tt.data))
			if diff := cmp.Diff(want, c, cmp.AllowUnexported(Catalog{}, source{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("catalog (-decoder +fast):\n%s", diff)
			}
			if diff := cmp.Diff(wantPs, ps); diff != "" {
				t.Errorf("problems (-decoder +fast):\n%s", diff)
			}
			if tt.name == "Devices" && (len(c.Devices) != 4 || len(ps) != 5) {
				t.Errorf("%d devices, %d problems %v; want 4 and 5", len(c.Devices), len(ps), ps)
			}
			if tt.name == "Many" && len(ps) < 30 {
				t.Errorf("only %d problems; the test means to have many", len(ps))
			}
		})
	}
}
