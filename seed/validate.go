package seed

import (
	"fmt"
	"maps"
)

// record is one category, recipe or device of a catalog, with where it
// came from.
type record struct {
	kind     string
	id       string
	at       source
	part     int    // index of the Merge argument it came from
	category string // a recipe's category
	validate func() error
}

// records lists c's categories, then its recipes, then its devices, each
// with its source.
func (c Catalog) records() []record {
	seen := make(map[srcKey]int)
	at := func(k srcKey) source {
		n := seen[k]
		seen[k]++
		if s := c.src[k]; n < len(s) {
			return s[n]
		}
		return source{}
	}
	recs := make([]record, 0, len(c.Categories)+len(c.Recipes)+len(c.Devices))
	for i := range c.Categories {
		cat := &c.Categories[i]
		recs = append(recs, record{kind: kindCategory, id: cat.Slug, at: at(srcKey{kindCategory, cat.Slug}), validate: cat.Validate})
	}
	for i := range c.Recipes {
		r := &c.Recipes[i]
		recs = append(recs, record{kind: kindRecipe, id: r.ID, at: at(srcKey{kindRecipe, r.ID}), category: r.Category, validate: r.Validate})
	}
	for i := range c.Devices {
		d := &c.Devices[i]
		recs = append(recs, record{kind: kindDevice, id: d.ID, at: at(srcKey{kindDevice, d.ID}), validate: d.Validate})
	}
	return recs
}

// Validate checks every category, recipe and device on its own, then the
// catalog as a whole: slugs and ids are unique and every recipe's category
// is in c. It
// returns a *ProblemsError listing all problems, or nil.
func (c Catalog) Validate() error {
	recs := c.records()
	var ps []Problem
	for _, r := range recs {
		ps = append(ps, recordProblems(r.validate(), r.kind, r.id, r.at)...)
	}
	ps = append(ps, duplicates(recs, false)...)
	ps = append(ps, references(recs, nil)...)
	return newProblemsError(ps)
}

// Merge joins catalogs parsed from several files into one and checks what no
// file can check alone: a slug or id defined in two parts, and recipes whose
// category is in no part. It does not validate each record again ([Parse]
// did); [Catalog.Validate] and [Load] check everything. The merged catalog is
// returned even when there are problems, with a *ProblemsError.
func Merge(parts ...Catalog) (Catalog, error) {
	return merge(nil, parts...)
}

// merge is [Merge] where recipes may also use the categories known
// reports (nil: none).
func merge(known func(string) bool, parts ...Catalog) (Catalog, error) {
	var m Catalog
	var recs []record
	var ps []Problem
	for i, p := range parts {
		for _, r := range p.records() {
			r.part = i
			recs = append(recs, r)
			m.remember(srcKey{r.kind, r.id}, r.at)
		}
		if len(p.trLines) > 0 && m.trLines == nil {
			m.trLines = make(map[srcKey]int, len(p.trLines))
		}
		maps.Copy(m.trLines, p.trLines)
		ps = append(ps, m.mergeLanguages(&p)...)
		m.Categories = append(m.Categories, p.Categories...)
		m.Recipes = append(m.Recipes, p.Recipes...)
		m.Devices = append(m.Devices, p.Devices...)
	}
	ps = append(ps, duplicates(recs, true)...)
	ps = append(ps, references(recs, known)...)
	if len(parts) > 1 {
		ps = append(ps, m.checkLanguages("")...)
	}
	return m, newProblemsError(ps)
}

// duplicates reports every record whose slug or id an earlier record of the
// same kind already uses. With acrossParts, only a clash with an earlier
// part counts, since Parse has reported those within one part.
func duplicates(recs []record, acrossParts bool) []Problem {
	first := make(map[srcKey]record)
	var ps []Problem
	for _, r := range recs {
		if r.id == "" {
			continue // Validate reports the missing slug or id
		}
		k := srcKey{r.kind, r.id}
		f, ok := first[k]
		if !ok {
			first[k] = r
			continue
		}
		if acrossParts && f.part == r.part {
			continue
		}
		field, msg := "id", "is already used by another "+r.kind
		if r.kind == kindCategory {
			field = "slug"
		}
		if f.at != (source{}) {
			msg += " at " + f.at.String()
		}
		ps = append(ps, Problem{File: r.at.file, Line: r.at.line, Kind: r.kind, ID: r.id, Field: field, Message: msg})
	}
	return ps
}

// references reports recipes whose category is neither among recs'
// categories nor one known reports (if not nil).
func references(recs []record, known func(string) bool) []Problem {
	cats := make(map[string]bool)
	for _, r := range recs {
		if r.kind == kindCategory {
			cats[r.id] = true
		}
	}
	var ps []Problem
	for _, r := range recs {
		if r.kind != kindRecipe || r.category == "" || cats[r.category] || known != nil && known(r.category) {
			continue // Validate reports a missing category
		}
		ps = append(ps, Problem{
			File: r.at.file, Line: r.at.line, Kind: kindRecipe, ID: r.id, Field: "category",
			Message: fmt.Sprintf("%q is not a category of this catalog", r.category),
		})
	}
	return ps
}
