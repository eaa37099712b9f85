package seed

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// Report says what [Sync] did or, for a dry run, would do.
type Report struct {
	Categories, Recipes, Devices int              // in the catalog seeded
	Changes                      []recipes.Change // to categories and recipes
	// DeviceChanges are the devices added or changed and those left as
	// registered despite a different secret_hash or enabled in the
	// catalog (without [SyncOptions.UpdateDevices]), in the catalog's order.
	DeviceChanges []recipes.DeviceChange
	DryRun        bool
	Draft         bool // the changes are to drafts, not published
}

// Count returns how many changes of kind ("category", "recipe" or
// "device") have op.
func (r Report) Count(kind string, op recipes.ChangeOp) int {
	n := 0
	if kind == kindDevice {
		for _, ch := range r.DeviceChanges {
			if ch.Op == op {
				n++
			}
		}
		return n
	}
	for _, ch := range r.Changes {
		if ch.Kind == kind && ch.Op == op {
			n++
		}
	}
	return n
}

// Changed reports whether anything was changed or, for a dry run, would
// be.
func (r Report) Changed() bool {
	return len(r.Changes) > 0 || slices.ContainsFunc(r.DeviceChanges, func(ch recipes.DeviceChange) bool { return ch.Op != "" })
}

// categoryDiff is what a seed changes in one category.
type categoryDiff struct {
	Slug string
	// Op is what happens to the category itself; empty if it is unchanged.
	Op recipes.ChangeOp
	// Recipes are the changes to its recipes: added, then changed, then
	// removed, each by id. A recipe moved here from another category is
	// a change here, with From set, and nothing in the other.
	Recipes []recipes.Change
}

// Count returns how many of d's recipe changes have op.
func (d categoryDiff) Count(op recipes.ChangeOp) int {
	n := 0
	for _, ch := range d.Recipes {
		if ch.Op == op {
			n++
		}
	}
	return n
}

// byCategory groups the changes to categories and recipes by category,
// ordered by slug.
func (r Report) byCategory() []categoryDiff {
	idx := make(map[string]int)
	var out []categoryDiff
	diff := func(slug string) *categoryDiff {
		i, ok := idx[slug]
		if !ok {
			i = len(out)
			idx[slug] = i
			out = append(out, categoryDiff{Slug: slug})
		}
		return &out[i]
	}
	for _, ch := range r.Changes {
		if ch.Kind == kindLanguages {
			continue
		}
		d := diff(ch.Category)
		if ch.Kind == kindCategory {
			d.Op = ch.Op
		} else {
			d.Recipes = append(d.Recipes, ch)
		}
	}
	opRank := map[recipes.ChangeOp]int{recipes.ItemAdded: 0, recipes.ItemChanged: 1, recipes.ItemRemoved: 2}
	for i := range out {
		slices.SortFunc(out[i].Recipes, func(a, b recipes.Change) int {
			return cmp.Or(cmp.Compare(opRank[a.Op], opRank[b.Op]), strings.Compare(a.ID, b.ID))
		})
	}
	slices.SortFunc(out, func(a, b categoryDiff) int { return strings.Compare(a.Slug, b.Slug) })
	return out
}

var opSign = map[recipes.ChangeOp]string{recipes.ItemAdded: "+", recipes.ItemChanged: "~", recipes.ItemRemoved: "-"}

// WriteDiff writes the changes for people, per category: a line with the
// counts, then, if items is true, a line per recipe changed, e.g.
//
//	soups (category changed): 1 added, 1 changed, 1 removed
//	  + pea-soup
//	  ~ leek-soup (moved from starters)
//	  - old-soup
//
// and only removals (what a prune deletes) if items is false. Then the
// devices, the same way, saying what changes in each registered one, and
// listing those changed (a seed never removes any) even if items is false:
//
//	devices: 1 added, 3 changed
//	  + oven-0042
//	  ~ oven-0007 (secret replaced)
//	  ~ oven-0009 (model CM-100 -> CM-300, re-enabled)
//	  ~ oven-0011 (disabled)
//
// Last, a line per registered device whose secret or enabled flag the
// catalog gives differently but the seed left as registered:
//
//	kept oven-0013's secret and enabled flag as registered (use -update-devices to replace them)
func (r Report) WriteDiff(w io.Writer, items bool) error {
	var b strings.Builder
	flush := func() error {
		if b.Len() <= 64<<10 {
			return nil
		}
		_, err := io.WriteString(w, b.String())
		b.Reset()
		return err
	}
	if l := r.languages(); l != "" {
		b.WriteString(strings.TrimPrefix(l, "; ") + "\n")
	}
	for _, d := range r.byCategory() {
		b.WriteString(d.Slug)
		if d.Op != "" {
			fmt.Fprintf(&b, " (category %s)", d.Op)
		}
		fmt.Fprintf(&b, ": %d added, %d changed, %d removed\n",
			d.Count(recipes.ItemAdded), d.Count(recipes.ItemChanged), d.Count(recipes.ItemRemoved))
		for _, ch := range d.Recipes {
			if !items && ch.Op != recipes.ItemRemoved {
				continue
			}
			fmt.Fprintf(&b, "  %s %s", opSign[ch.Op], ch.ID)
			if ch.From != "" {
				fmt.Fprintf(&b, " (moved from %s)", ch.From)
			}
			b.WriteByte('\n')
		}
		if err := flush(); err != nil {
			return err
		}
	}
	if added, changed := r.Count(kindDevice, recipes.ItemAdded), r.Count(kindDevice, recipes.ItemChanged); added+changed > 0 {
		fmt.Fprintf(&b, "devices: %d added, %d changed\n", added, changed)
		for _, ch := range r.DeviceChanges {
			if ch.Op == recipes.ItemChanged || items && ch.Op == recipes.ItemAdded {
				fmt.Fprintf(&b, "  %s %s%s\n", opSign[ch.Op], ch.ID, deviceDetails(ch))
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	keep := "kept"
	if r.DryRun {
		keep = "would keep"
	}
	for _, ch := range r.DeviceChanges {
		switch {
		case ch.KeptSecret && ch.KeptEnabled:
			fmt.Fprintf(&b, "%s %s's secret and enabled flag as registered (use -update-devices to replace them)\n", keep, ch.ID)
		case ch.KeptSecret:
			fmt.Fprintf(&b, "%s %s's secret as registered (use -update-devices to replace it)\n", keep, ch.ID)
		case ch.KeptEnabled:
			fmt.Fprintf(&b, "%s %s's enabled flag as registered (use -update-devices to replace it)\n", keep, ch.ID)
		default:
			continue
		}
		if err := flush(); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// deviceDetails says what changes in a registered device, e.g. " (model
// CM-100 -> CM-300, secret replaced, disabled)", or nothing.
func deviceDetails(ch recipes.DeviceChange) string {
	var what []string
	if ch.FromModel != ch.Model {
		what = append(what, fmt.Sprintf("model %s -> %s", ch.FromModel, ch.Model))
	}
	if ch.FromLocale != ch.Locale {
		from := ch.FromLocale
		if from == "" {
			from = "(none)"
		}
		what = append(what, fmt.Sprintf("locale %s -> %s", from, ch.Locale))
	}
	if ch.NewSecret {
		what = append(what, "secret replaced")
	}
	switch {
	case ch.Enabled == nil:
	case *ch.Enabled:
		what = append(what, "re-enabled")
	default:
		what = append(what, "disabled")
	}
	if len(what) == 0 {
		return ""
	}
	return " (" + strings.Join(what, ", ") + ")"
}

// String summarises r on one line, e.g. "10 categories, 130 recipes;
// recipes 3 added, 1 changed, 0 removed; categories 0 added, 0 changed, 0
// removed", followed by "; devices 2 added, 0 changed" and with ", 5
// devices" after the recipes if the catalog holds devices.
func (r Report) String() string {
	var devs, devChanges string
	if r.Devices > 0 {
		devs = fmt.Sprintf(", %d devices", r.Devices)
		devChanges = fmt.Sprintf("; devices %d added, %d changed", r.Count(kindDevice, recipes.ItemAdded), r.Count(kindDevice, recipes.ItemChanged))
	}
	return fmt.Sprintf("%d categories, %d recipes%s; recipes %d added, %d changed, %d removed; categories %d added, %d changed, %d removed%s",
		r.Categories, r.Recipes, devs,
		r.Count(kindRecipe, recipes.ItemAdded), r.Count(kindRecipe, recipes.ItemChanged), r.Count(kindRecipe, recipes.ItemRemoved),
		r.Count(kindCategory, recipes.ItemAdded), r.Count(kindCategory, recipes.ItemChanged), r.Count(kindCategory, recipes.ItemRemoved),
		devChanges) + r.languages()
}

// languages is "; languages en (default), de" when the seed changes the
// catalog's languages, else "".
func (r Report) languages() string {
	for _, ch := range r.Changes {
		if ch.Kind == kindLanguages {
			def, others, _ := strings.Cut(ch.ID, ",")
			s := "; languages " + def + " (default)"
			if others != "" {
				s += ", " + strings.ReplaceAll(others, ",", ", ")
			}
			return s
		}
	}
	return ""
}
