package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// SyncOptions says how [Store.Sync] writes. The zero value publishes,
// adding and replacing, and removes nothing.
type SyncOptions struct {
	// Prune also deletes every published category and recipe that is not
	// given, making the published catalog exactly what is given.
	Prune bool
	// Drafts saves what is given as editors' drafts instead of publishing
	// it (see [Store.Sync]). It cannot prune, nor carry Devices.
	Drafts bool
	// DryRun works out the changes and writes nothing.
	DryRun bool
	// Languages, if set, is what a seed's files say about the catalog's
	// languages; the languages it resolves to (see
	// [recipes.LanguagesDecl.Resolve]) are written in the sync's
	// MULTI/EXEC. Either way every translation given must be to one of the
	// catalog's languages other than its default.
	Languages *recipes.LanguagesDecl
	// Devices, if set, is a seed's device registrations, written after
	// the catalog's MULTI/EXEC (see [SyncDevices]). The catalog version
	// bumps only if published content changes too.
	Devices SyncDevices
}

// SyncDevices is what [Store.Sync] writes beside the catalog. Its keys
// are its own and live in other Redis Cluster slots than the catalog's,
// so no transaction holds both: Sync plans it before the catalog's
// MULTI/EXEC, so that a record it cannot write stops the sync before
// anything is written, and writes it after that MULTI/EXEC committed (or
// found nothing to change). Each record is written atomically on its own
// and idempotently, so a sync that failed writing them is finished by
// running it again.
type SyncDevices interface {
	// Validate checks what is to be written before anything is read; its
	// errors are returned with the catalog's (joined).
	Validate() error
	// Size is how many records it holds, to bound the write's time.
	Size() int
	// Plan reads what it needs and works out its writes. With dryRun it
	// must not write or hand out anything.
	Plan(ctx context.Context, dryRun bool) error
	// Write makes the writes of the last Plan, once the catalog's
	// transaction is done; now is the time the sync stamps.
	Write(ctx context.Context, now time.Time) error
}

// Sync makes the catalog hold cats and recs, as a seed does, in one
// MULTI/EXEC, all or nothing, then writes opts.Devices (see
// [SyncDevices]).
//
// Published (the default), it adds what is new, replaces what changed
// and, with Prune, deletes every category and recipe that is in neither,
// bumping the version once. Items whose content is unchanged are not
// rewritten and keep their UpdatedAt and ETags; when nothing changes
// nothing is written and the version stays. It writes each kind of key
// with a few large commands, so that a catalog of 100,000 recipes is one
// short transaction. Editors' drafts are kept filed where they can be
// found (see sync_carry_drafts.go). It returns the changes made: added
// and changed categories in the order given, added recipes, then changed
// recipes, each in the order given, then removed recipes by id and
// removed categories by slug.
//
// With Drafts, as "recipesd seed -draft" does, every category and recipe
// that differs from its published copy (or has none) becomes a draft;
// published content and the catalog version stay, so appliances see
// nothing change until editors publish. An item equal to its published
// copy makes no draft and drops the draft it had, as saving it in the
// editor would; an item equal to its draft is left as it is. It returns
// the changes to the editors' copies: added (neither published nor
// drafted before) or changed, categories first, then recipes. A recipe's
// category may then also be a draft; a published recipe cannot change
// category as a draft (it must be moved).
//
// It returns the *recipes.ValidationError of an invalid item (several
// joined with [errors.Join]), EINVALID for a duplicate, a recipe whose
// category is not in cats nor (without Prune) stored, or options that do
// not go together, ECONFLICT if the catalog kept changing while it tried,
// and EUNAVAILABLE if Redis did not answer in time; it then wrote
// nothing. An error wrapping [ErrOutcomeUnknown] means the write may have
// happened. An error of opts.Devices' Write comes with the catalog's
// changes, which are written: running the sync again finishes it.
func (s *Store) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, opts SyncOptions) ([]recipes.Change, error) {
	if opts.Drafts {
		switch {
		case opts.Prune:
			return nil, recipes.Errorf(recipes.EINVALID, "drafts cannot prune: removing published content is not a draft")
		case opts.Devices != nil:
			return nil, recipes.Errorf(recipes.EINVALID, "drafts cannot hold devices")
		}
		return s.syncAsDrafts(ctx, cats, recs, opts.DryRun, opts.Languages)
	}
	return s.syncPublished(ctx, cats, recs, opts)
}

// validateImport checks every item and that none is given twice; more are
// errors found beside them.
func validateImport(cats []recipes.Category, recs []recipes.Recipe, more ...error) error {
	errs := validateEach(nil, "category", cats, func(c *recipes.Category) string { return c.Slug })
	errs = validateEach(errs, "recipe", recs, func(r *recipes.Recipe) string { return r.ID })
	for _, err := range more {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// validateEach appends to errs the errors of items, of one kind, in
// their order, and one for each key given twice. The items are checked in
// parallel (see [inParallel]); duplicates are found after, in order.
func validateEach[T any, P interface {
	*T
	Validate() error
}](errs []error, kind string, items []T, key func(P) string) []error {
	invalid := make([]error, len(items))
	inParallel(len(items), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			invalid[i] = P(&items[i]).Validate()
		}
	})
	seen := make(map[string]bool, len(items))
	for i := range items {
		it := P(&items[i])
		if err := invalid[i]; err != nil {
			errs = append(errs, err)
		} else if seen[key(it)] {
			errs = append(errs, recipes.Errorf(recipes.EINVALID, "%s %q appears twice", kind, key(it)))
		}
		seen[key(it)] = true
	}
	return errs
}
