package recipes

import (
	"slices"
)

// LanguagesDecl is what a catalog file says about the catalog's
// languages: its top-level "default_language" and "languages", each
// optional. A seed writes the languages it resolves to together with the
// content.
type LanguagesDecl struct {
	// Default is the catalog's default language; "" keeps the catalog's.
	Default string
	// Others, when OthersGiven, are exactly the other languages. Otherwise
	// the catalog's others are kept (none with prune, which makes the
	// catalog exactly the files) and every language the translations use
	// is added.
	Others      []string
	OthersGiven bool
}

// Resolve returns the catalog's languages after a seed with d, given the
// current ones and the languages the seed's translations use (sorted).
func (d LanguagesDecl) Resolve(cur Languages, used []string, prune bool) Languages {
	out := Languages{Default: cur.Default}
	if d.Default != "" {
		out.Default = d.Default
	}
	if d.OthersGiven {
		out.Others = slices.Clone(d.Others)
		return out
	}
	add := func(tag string) {
		if tag != out.Default && !slices.Contains(out.Others, tag) {
			out.Others = append(out.Others, tag)
		}
	}
	if !prune {
		for _, t := range cur.Others {
			add(t)
		}
	}
	for _, t := range used {
		add(t)
	}
	return out
}
