package recipes

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// FieldDiff is how one field differs between two copies of an item: a
// single value (Old, New) or, for lists such as ingredients and steps,
// line by line (Lines).
type FieldDiff struct {
	Field string     `json:"field"` // JSON member name; "translations.de.title" for a translation
	Old   string     `json:"old,omitempty"`
	New   string     `json:"new,omitempty"`
	Lines []LineDiff `json:"lines,omitempty"`
}

// LineDiff is one line of a list field's diff.
type LineDiff struct {
	Op  string `json:"op"` // one of the Line… constants
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// Operations of a [LineDiff].
const (
	LineSame    = "same"
	LineAdded   = "added"
	LineRemoved = "removed"
	LineChanged = "changed"
)

// DiffRecipes returns the fields in which b differs from a, in the order a
// form shows them; translations come last, language by language. It
// ignores UpdatedAt.
func DiffRecipes(a, b Recipe) []FieldDiff {
	var d differ
	d.value("category", a.Category, b.Category)
	d.value("title", a.Title, b.Title)
	d.value("summary", a.Summary, b.Summary)
	d.value("servings", strconv.Itoa(a.Servings), strconv.Itoa(b.Servings))
	d.value("total_minutes", strconv.Itoa(a.TotalMinutes), strconv.Itoa(b.TotalMinutes))
	d.value("difficulty", string(a.Difficulty), string(b.Difficulty))
	d.value("models", strings.Join(a.Models, ", "), strings.Join(b.Models, ", "))
	d.lines("ingredients", mapLines(a.Ingredients, Ingredient.line), mapLines(b.Ingredients, Ingredient.line))
	d.lines("steps", mapLines(a.Steps, Step.line), mapLines(b.Steps, Step.line))
	d.value("tags", strings.Join(a.Tags, ", "), strings.Join(b.Tags, ", "))
	for _, lang := range unionKeys(a.Translations, b.Translations) {
		ta, tb := a.Translations[lang], b.Translations[lang]
		p := "translations." + lang + "."
		d.value(p+"title", ta.Title, tb.Title)
		d.value(p+"summary", ta.Summary, tb.Summary)
		d.lines(p+"ingredients", ta.Ingredients, tb.Ingredients)
		d.lines(p+"steps", ta.Steps, tb.Steps)
	}
	return d.out
}

// DiffCategories is [DiffRecipes] for categories.
func DiffCategories(a, b Category) []FieldDiff {
	var d differ
	d.value("name", a.Name, b.Name)
	d.value("description", a.Description, b.Description)
	d.value("position", strconv.Itoa(a.Position), strconv.Itoa(b.Position))
	for _, lang := range unionKeys(a.Translations, b.Translations) {
		ta, tb := a.Translations[lang], b.Translations[lang]
		p := "translations." + lang + "."
		d.value(p+"name", ta.Name, tb.Name)
		d.value(p+"description", ta.Description, tb.Description)
	}
	return d.out
}

type differ struct{ out []FieldDiff }

func (d *differ) value(field, a, b string) {
	if a != b {
		d.out = append(d.out, FieldDiff{Field: field, Old: a, New: b})
	}
}

func (d *differ) lines(field string, a, b []string) {
	if slices.Equal(a, b) {
		return
	}
	d.out = append(d.out, FieldDiff{Field: field, Lines: DiffLines(a, b)})
}

// DiffLines compares two lists of lines by their longest common
// subsequence: lines of both are "same", the others "removed" from a or
// "added" in b, and a removed line directly followed by an added one is
// shown as one "changed" line. Lists are short (at most 100 lines), so the
// quadratic table is cheap.
func DiffLines(a, b []string) []LineDiff {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []LineDiff
	var removed, added []string
	flush := func() {
		k := min(len(removed), len(added))
		for i := range k {
			out = append(out, LineDiff{Op: LineChanged, Old: removed[i], New: added[i]})
		}
		for _, l := range removed[k:] {
			out = append(out, LineDiff{Op: LineRemoved, Old: l})
		}
		for _, l := range added[k:] {
			out = append(out, LineDiff{Op: LineAdded, New: l})
		}
		removed, added = removed[:0], added[:0]
	}
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			flush()
			out = append(out, LineDiff{Op: LineSame, Old: a[i], New: b[j]})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			added = append(added, b[j])
			j++
		default:
			removed = append(removed, a[i])
			i++
		}
	}
	flush()
	return out
}

func mapLines[T any](xs []T, f func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	set := maps.Clone(a)
	if set == nil {
		set = map[string]V{}
	}
	maps.Copy(set, b)
	return slices.Sorted(maps.Keys(set))
}

// line is an ingredient as a diff shows it: "200 g flour".
func (in Ingredient) line() string {
	q := strconv.FormatFloat(in.Quantity, 'f', -1, 64)
	switch {
	case in.Quantity == 0:
		return in.Name + " (to taste)"
	case in.Unit == "":
		return q + " " + in.Name
	}
	return q + " " + in.Unit + " " + in.Name
}

// line is a step as a diff shows it: "Stir. (5 min, 90 °C, speed 3)".
func (s Step) line() string {
	var parts []string
	if s.Minutes > 0 {
		parts = append(parts, fmt.Sprintf("%d min", s.Minutes))
	}
	if s.TemperatureC != nil {
		parts = append(parts, fmt.Sprintf("%d °C", *s.TemperatureC))
	}
	if s.Speed != nil {
		parts = append(parts, fmt.Sprintf("speed %d", *s.Speed))
	}
	if len(parts) == 0 {
		return s.Text
	}
	return s.Text + " (" + strings.Join(parts, ", ") + ")"
}
