package seed

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// The kinds of [Problem].
const (
	kindCategory = "category"
	kindRecipe   = "recipe"
	kindDevice   = "device"
	kindFile     = "file"
)

// Problem is one thing wrong with an input file.
type Problem struct {
	// File and Line locate the problem; both are empty for records that did
	// not come from a file. Syntax errors, unknown fields, values of the
	// wrong type and invalid values point at their own line; a field that is
	// missing, and a record as a whole, at the line where the record starts.
	File string
	Line int

	Kind    string // "category", "recipe", "device", or "file" for the file as a whole
	ID      string // the category's slug or the recipe's or device's id, as given
	Field   string // a path such as "steps[2].temperature_c"; empty for the whole record
	Message string
}

// String formats p for people, e.g.
//
//	soups.json:42: recipe "tomato-soup": steps[2].temperature_c: must be between 37 and 160 °C, not 400
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Kind != "" && p.Kind != kindFile {
		b.WriteString(p.Kind)
		if p.ID != "" {
			fmt.Fprintf(&b, " %q", p.ID)
		}
		b.WriteString(": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ProblemsError carries every problem found in a set of catalog files,
// ordered by file and line. [Parse], [Merge], [Catalog.Validate], [ParseFS],
// [Demo] and [Load] return it.
type ProblemsError struct {
	Problems []Problem
}

// Error implements the error interface: one problem per line.
func (e *ProblemsError) Error() string {
	if len(e.Problems) == 1 {
		return "seed: " + e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed: %d problems:", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n\t" + p.String())
	}
	return b.String()
}

// newProblemsError returns nil for no problems, otherwise a *ProblemsError
// with ps sorted by file and line, keeping the order of problems on one line.
func newProblemsError(ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return &ProblemsError{Problems: ps}
}

// recordProblems turns the error of a record's Validate into problems.
func recordProblems(err error, kind, id string, at source) []Problem {
	if err == nil {
		return nil
	}
	var ve *recipes.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{File: at.file, Line: at.line, Kind: kind, ID: id, Message: err.Error()}}
	}
	ps := make([]Problem, 0, len(ve.Fields))
	for _, f := range ve.Fields {
		ps = append(ps, Problem{File: at.file, Line: at.line, Kind: kind, ID: id, Field: f.Field, Message: f.Message})
	}
	return ps
}

// The top-level lists of a catalog file.
const (
	listKeys  = `"categories", "recipes" or "devices"`
	noRecords = "has no categories, recipes or devices"
)

// listKind returns the kind of the records in the top-level list key, or
// "" if key names no list.
func listKind(key string) string {
	switch key {
	case "categories":
		return kindCategory
	case "recipes":
		return kindRecipe
	case "devices":
		return kindDevice
	}
	return ""
}

// plaintextSecret is the problem of a device record with a secret in clear.
const plaintextSecret = `plaintext secrets are never accepted in files; give secret_hash instead, ` +
	`"sha256:" and the hex SHA-256 of the secret: echo "sha256:$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)". ` +
	`Leave both out to keep the secret of a device already in the store, or to have the server issue one (recipesd seed -secrets-out FILE)`

// unknownFieldHint returns, for an unknown field that is a likely mistake,
// a message saying what to do instead.
func unknownFieldHint(kind, field string) (string, bool) {
	if kind == kindDevice && strings.EqualFold(field, "secret") {
		return plaintextSecret, true
	}
	return "", false
}
