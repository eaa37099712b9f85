package seed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

// Store is what [Sync] needs of the catalog store.
type Store interface {
	// Sync upserts cats and recs and, with prune, deletes every category
	// and recipe not among them, in one atomic write that changes the
	// catalog version once, or not at all if nothing changes. It returns
	// the changes made. A recipe's category must be among cats or, without
	// prune, already stored: otherwise it returns EINVALID and writes
	// nothing.
	Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error)

	// Plan returns the changes Sync would make now, writing nothing.
	Plan(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error)
}

// DraftStore is what [Sync] needs of the store to seed drafts.
type DraftStore interface {
	// SyncDrafts saves cats and recs as editors' drafts in one atomic
	// write, leaving published content and the catalog version alone, and
	// returns the changes to the editors' copies.
	SyncDrafts(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe) ([]recipes.Change, error)

	// PlanDrafts returns the changes SyncDrafts would make now, writing
	// nothing.
	PlanDrafts(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe) ([]recipes.Change, error)
}

// DeviceStore is what [Sync] needs of the store to seed devices too.
type DeviceStore interface {
	// SyncWithDevices is Store.Sync that also registers devs, in the same
	// atomic write, without changing the catalog version for them: it adds
	// each device that is not stored and sets the model, enabled and, if
	// given, the secret hash of each one that is. It never removes a
	// device, prune or not. Each device new to the store without a secret
	// hash gets a fresh secret: issue is called with those secrets, by id,
	// before anything is written (again, with the full set, if the write
	// is retried), and nothing is written if it fails. With issue nil such
	// a device is a *recipes.ValidationError on its "secret_hash" and
	// nothing is written. The device changes come last, in the order given.
	SyncWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs []recipes.DeviceRecord, prune bool,
		issue func(secrets map[string]string) error) ([]recipes.Change, error)

	// PlanWithDevices returns the changes SyncWithDevices would make now,
	// writing nothing; issue says whether new devices without a secret
	// hash would have secrets issued or be refused.
	PlanWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs []recipes.DeviceRecord, prune, issue bool) ([]recipes.Change, error)
}

// SyncOptions says how [Sync] seeds.
type SyncOptions struct {
	// Prune removes the categories and recipes that the catalog does not
	// hold, making the store hold exactly the catalog.
	Prune bool
	// DryRun works out the changes and writes nothing.
	DryRun bool
	// Draft saves the catalog as drafts for editors to review instead of
	// publishing it; the store must be a [DraftStore]. It cannot prune,
	// and the catalog cannot hold devices.
	Draft bool
	// Secrets, if set, lets the store issue a secret to each device that is
	// new to it and has no secret_hash: it is called with those secrets, by
	// id, before anything is written, and must keep them safe (the store
	// keeps only hashes); if it fails, nothing is written. It is called
	// again, with the full set, if the write is retried; the last call
	// counts. Without it such devices are problems. A dry run never calls
	// it, but plans as if secrets were issued.
	Secrets func(secrets map[string]string) error
}

// Sync seeds st with c: it checks all of c first and then writes it in one
// atomic step, publishing it at once. Seeding the same catalog again
// changes nothing. It returns a *ProblemsError if c is invalid, and the
// store's error if the write fails; either way nothing was written.
//
// Each record was validated when its file was read ([ReadFiles], [Parse]);
// Sync checks what concerns the catalog as a whole (slugs and ids used
// twice and, with Prune, recipes whose category is not in c) and leaves
// validating each record again to the store, whose problems it reports
// with the file and line each record came from.
func Sync(ctx context.Context, st Store, c Catalog, opts SyncOptions) (Report, error) {
	rep := Report{Categories: len(c.Categories), Recipes: len(c.Recipes), Devices: len(c.Devices), DryRun: opts.DryRun, Draft: opts.Draft}
	if err := c.checkDevices(opts); err != nil {
		return rep, err
	}
	if err := c.checkWhole(opts.Prune); err != nil {
		return rep, err
	}
	write := func(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error) {
		if opts.DryRun {
			return st.Plan(ctx, cats, recs, prune)
		}
		return st.Sync(ctx, cats, recs, prune)
	}
	var hashless map[string]bool // devices without a secret hash, if none may be issued
	if devs := c.Devices; len(devs) > 0 {
		ds, ok := st.(DeviceStore)
		if !ok {
			return rep, errors.New("seed: the store cannot register devices")
		}
		if opts.Secrets == nil {
			hashless = make(map[string]bool)
			for _, d := range devs {
				if d.SecretHash == "" {
					hashless[d.ID] = true
				}
			}
		}
		write = func(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error) {
			if opts.DryRun {
				return ds.PlanWithDevices(ctx, cats, recs, devs, prune, opts.Secrets != nil)
			}
			return ds.SyncWithDevices(ctx, cats, recs, devs, prune, opts.Secrets)
		}
	}
	if opts.Draft {
		ds, ok := st.(DraftStore)
		switch {
		case opts.Prune:
			return rep, errors.New("seed: drafts cannot prune: removing published content is not a draft")
		case !ok:
			return rep, errors.New("seed: the store cannot save drafts")
		}
		write = func(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, _ bool) ([]recipes.Change, error) {
			if opts.DryRun {
				return ds.PlanDrafts(ctx, cats, recs)
			}
			return ds.SyncDrafts(ctx, cats, recs)
		}
	}
	// Nothing here refers to c's records during the write, so that the
	// store may let go of each once it has encoded it.
	src := c.src
	changes, err := write(ctx, c.Categories, c.Recipes, opts.Prune)
	if err != nil {
		if perr := storeProblems(err, src, hashless); perr != nil {
			return rep, perr
		}
		return rep, fmt.Errorf("seed: %w", err)
	}
	rep.Changes = changes
	return rep, nil
}

// checkDevices reports devices that opts cannot seed: drafts are content
// for editors to review, and a prune with nothing but devices would remove
// the whole catalog.
func (c Catalog) checkDevices(opts SyncOptions) error {
	if len(c.Devices) == 0 {
		return nil
	}
	if opts.Prune && len(c.Categories) == 0 && len(c.Recipes) == 0 {
		return &ProblemsError{Problems: []Problem{{Kind: kindFile, Message: "the files hold devices but no categories or recipes, " +
			"so -prune would remove every published category and recipe; seed devices without -prune (it never removes devices)"}}}
	}
	if !opts.Draft {
		return nil
	}
	// One problem per file, at its first device.
	first := make(map[string]source)
	var files []string
	for _, d := range c.Devices {
		for _, at := range c.src[srcKey{kindDevice, d.ID}] {
			if f, ok := first[at.file]; !ok {
				first[at.file] = at
				files = append(files, at.file)
			} else if at.line < f.line {
				first[at.file] = at
			}
		}
	}
	msg := "holds devices, which cannot be seeded as drafts: drafts are content for editors to review; " +
		"seed the devices without -draft, or leave them out (recipesd export -no-devices)"
	if len(files) == 0 {
		return &ProblemsError{Problems: []Problem{{Kind: kindFile, Message: "the catalog " + msg}}}
	}
	var ps []Problem
	for _, f := range files {
		ps = append(ps, Problem{File: f, Line: first[f].line, Kind: kindFile, Message: msg})
	}
	return newProblemsError(ps)
}

// checkWhole reports slugs and ids used twice and, if allCategories,
// recipes whose category is not in c.
func (c Catalog) checkWhole(allCategories bool) error {
	recs := c.records()
	ps := duplicates(recs, false)
	if allCategories {
		ps = append(ps, references(recs, nil)...)
	}
	return newProblemsError(ps)
}

// storeProblems turns the *recipes.ValidationError (or several, joined) a
// store returned into problems at the positions src knows, or returns nil.
// A device of hashless refused for want of a secret hash is told how to
// give one or have one issued.
func storeProblems(err error, src map[srcKey][]source, hashless map[string]bool) error {
	var verrs []*recipes.ValidationError
	var collect func(error)
	collect = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				collect(e)
			}
			return
		}
		var ve *recipes.ValidationError
		if errors.As(err, &ve) {
			verrs = append(verrs, ve)
		}
	}
	collect(err)
	if len(verrs) == 0 {
		return nil
	}
	var ps []Problem
	for _, ve := range verrs {
		var at source
		if s := src[srcKey{ve.Kind, ve.ID}]; len(s) > 0 {
			at = s[0]
		}
		for _, p := range recordProblems(ve, ve.Kind, ve.ID, at) {
			if p.Kind == kindDevice && p.Field == "secret_hash" && hashless[p.ID] {
				p.Message = missingSecretHash
			}
			ps = append(ps, p)
		}
	}
	return newProblemsError(ps)
}

// missingSecretHash is the problem of a new device without a secret hash
// when no secrets are issued.
const missingSecretHash = `is required for a device that is not in the store yet: give the SHA-256 of its secret ` +
	`(echo "sha256:$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)"), or let the server issue secrets ` +
	`to new devices with recipesd seed -secrets-out FILE`

// Report says what [Sync] did or, for a dry run, would do.
type Report struct {
	Categories, Recipes, Devices int // in the catalog seeded
	Changes                      []recipes.Change
	DryRun                       bool
	Draft                        bool // the changes are to drafts, not published
}

// Count returns how many changes of kind ("category", "recipe" or
// "device") have op.
func (r Report) Count(kind string, op recipes.ChangeOp) int {
	n := 0
	for _, ch := range r.Changes {
		if ch.Kind == kind && ch.Op == op {
			n++
		}
	}
	return n
}

// CategoryDiff is what a seed changes in one category.
type CategoryDiff struct {
	Slug string
	// Op is what happens to the category itself; empty if it is unchanged.
	Op recipes.ChangeOp
	// Recipes are the changes to its recipes: added, then changed, then
	// removed, each by id. A recipe moved here from another category is
	// a change here, with From set, and nothing in the other.
	Recipes []recipes.Change
}

// Count returns how many of d's recipe changes have op.
func (d CategoryDiff) Count(op recipes.ChangeOp) int {
	n := 0
	for _, ch := range d.Recipes {
		if ch.Op == op {
			n++
		}
	}
	return n
}

// ByCategory groups the changes to categories and recipes by category,
// ordered by slug.
func (r Report) ByCategory() []CategoryDiff {
	idx := make(map[string]int)
	var out []CategoryDiff
	diff := func(slug string) *CategoryDiff {
		i, ok := idx[slug]
		if !ok {
			i = len(out)
			idx[slug] = i
			out = append(out, CategoryDiff{Slug: slug})
		}
		return &out[i]
	}
	for _, ch := range r.Changes {
		if ch.Kind == kindDevice {
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
	slices.SortFunc(out, func(a, b CategoryDiff) int { return strings.Compare(a.Slug, b.Slug) })
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
// devices, the same way (a seed never removes any):
//
//	devices: 1 added, 1 changed
//	  + oven-0042
//	  ~ oven-0007
func (r Report) WriteDiff(w io.Writer, items bool) error {
	var b strings.Builder
	for _, d := range r.ByCategory() {
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
		if b.Len() > 64<<10 {
			if _, err := io.WriteString(w, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if added, changed := r.Count(kindDevice, recipes.ItemAdded), r.Count(kindDevice, recipes.ItemChanged); added+changed > 0 {
		fmt.Fprintf(&b, "devices: %d added, %d changed\n", added, changed)
		for _, ch := range r.Changes {
			if items && ch.Kind == kindDevice {
				fmt.Fprintf(&b, "  %s %s\n", opSign[ch.Op], ch.ID)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
		devChanges)
}
