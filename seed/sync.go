package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/recipesd/recipesd/recipes"
)

// Writer is what seeding needs of the store: one atomic write.
type Writer interface {
	// Sync writes cats and recs, and registers devs.Devices, in one atomic
	// step: all of it or, on error, none. Without opts.Draft it publishes:
	// it upserts the content and, with opts.Prune, deletes every category
	// and recipe not given, changing the catalog version once, or not at
	// all if no content changes (devices alone leave it). With opts.Draft
	// the content becomes editors' drafts and the version stays. A recipe's
	// category must be among cats or, without prune, already stored:
	// otherwise it returns EINVALID. With opts.DryRun it writes nothing and
	// returns the changes it would make.
	//
	// It adds each device that is not stored and sets the model of each
	// one that is and, only with devs.Update, its enabled flag and secret
	// hash if given; it never removes a device. A device new to the store
	// without a secret hash gets a fresh secret through opts.Secrets (see
	// [SyncOptions]); without Secrets it is a *recipes.ValidationError on
	// its "secret_hash". It returns the content changes, then, in the
	// order given, the devices added or changed and those left as
	// registered despite a different secret hash or enabled flag given.
	Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error)
}

// SyncOptions says how [Sync] seeds.
type SyncOptions struct {
	// Prune removes the categories and recipes that the catalog does not
	// hold, making the store hold exactly the catalog.
	Prune bool
	// DryRun works out the changes and writes nothing.
	DryRun bool
	// Draft saves the catalog as drafts for editors to review instead of
	// publishing it. It cannot prune, and the catalog cannot hold devices.
	Draft bool
	// Secrets, if set, lets the store issue a secret to each device that is
	// new to it and has no secret_hash: it is called with those secrets, by
	// id, before anything is written, and must keep them safe (the store
	// keeps only hashes); if it fails, nothing is written. It is called
	// again if the write is retried, with the secrets that attempt stores,
	// none possibly: the last call counts. Without it such devices are
	// problems. A dry run never calls it, but plans as if secrets were
	// issued.
	Secrets func(secrets map[string]string) error
	// UpdateDevices lets the catalog's secret_hash and enabled replace
	// those of registered devices (restoring a backup, re-keying a fleet).
	// Without it registered devices get only their model from the catalog,
	// and the report lists those whose secret or flag it left as they are.
	UpdateDevices bool
	// Languages is set by [Sync] from the catalog (see
	// [Catalog.Languages]): what the store is to make of the catalog's
	// languages, in the same atomic step; nil leaves them as they are.
	Languages *recipes.LanguagesDecl
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
func Sync(ctx context.Context, st Writer, c Catalog, opts SyncOptions) (Report, error) {
	rep := Report{Categories: len(c.Categories), Recipes: len(c.Recipes), Devices: len(c.Devices), DryRun: opts.DryRun, Draft: opts.Draft}
	if err := c.checkDevices(opts); err != nil {
		return rep, err
	}
	if err := c.checkWhole(opts.Prune); err != nil {
		return rep, err
	}
	if opts.Draft && opts.Prune {
		return rep, errors.New("seed: drafts cannot prune: removing published content is not a draft")
	}
	var hashless map[string]bool // devices without a secret hash, if none may be issued
	if opts.Secrets == nil {
		for _, d := range c.Devices {
			if d.SecretHash == "" {
				if hashless == nil {
					hashless = make(map[string]bool)
				}
				hashless[d.ID] = true
			}
		}
	}
	var devs recipes.DeviceImport
	if len(c.Devices) > 0 {
		devs = recipes.DeviceImport{Devices: c.Devices, Update: opts.UpdateDevices}
	}
	// Nothing here refers to c's records during the write, so that the
	// store may let go of each once it has encoded it.
	src, trLines := c.src, c.trLines
	opts.Languages = c.syncLanguages()
	changes, devChanges, err := st.Sync(ctx, c.Categories, c.Recipes, devs, opts)
	if err != nil {
		if perr := storeProblems(err, src, trLines, hashless); perr != nil {
			return rep, perr
		}
		return rep, fmt.Errorf("seed: %w", err)
	}
	rep.Changes, rep.DeviceChanges = changes, devChanges
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
func storeProblems(err error, src map[srcKey][]source, trLines map[srcKey]int, hashless map[string]bool) error {
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
			if line, ok := translationLine(trLines, ve.Kind, ve.ID, p.Field); ok {
				p.Line = line
			}
			if p.Kind == kindLanguages {
				p.Kind = kindFile // the files' top-level languages
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
