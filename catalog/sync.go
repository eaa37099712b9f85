package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

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
	// Devices, if set, is written in the same MULTI/EXEC as the catalog,
	// all or nothing: a seed's device registrations. The catalog version
	// bumps only if published content changes too.
	Devices SyncDevices
}

// SyncDevices is what [Store.Sync] writes beside the catalog in its one
// MULTI/EXEC. Its keys are its own: Sync knows none of them, and runs
// its steps in order on every attempt of the transaction.
type SyncDevices interface {
	// Validate checks what is to be written before anything is read; its
	// errors are returned with the catalog's (joined).
	Validate() error
	// Size is how many records it holds, to bound the write's time.
	Size() int
	// Plan reads what it needs in tx, WATCHing the keys it reads, and
	// works out its writes; a change to them meanwhile makes the sync
	// start again. With dryRun it must not write or hand out anything. It
	// reports whether there is anything to write.
	Plan(ctx context.Context, tx *redis.Tx, dryRun bool) (writes bool, err error)
	// Queue queues the writes of the last Plan into the sync's MULTI; now
	// is the time the sync stamps.
	Queue(ctx context.Context, p redis.Pipeliner, now time.Time)
}

// Sync makes the catalog hold cats and recs, as a seed does, in one
// MULTI/EXEC, all or nothing.
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
// happened.
func (s *Store) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, opts SyncOptions) ([]recipes.Change, error) {
	if opts.Drafts {
		switch {
		case opts.Prune:
			return nil, recipes.Errorf(recipes.EINVALID, "drafts cannot prune: removing published content is not a draft")
		case opts.Devices != nil:
			return nil, recipes.Errorf(recipes.EINVALID, "drafts cannot hold devices")
		}
		return s.syncAsDrafts(ctx, cats, recs, opts.DryRun)
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

// validateEach appends to errs the errors of items, of one kind, and one
// for each key given twice.
func validateEach[T any, P interface {
	*T
	Validate() error
}](errs []error, kind string, items []T, key func(P) string) []error {
	seen := make(map[string]bool, len(items))
	for i := range items {
		it := P(&items[i])
		if err := it.Validate(); err != nil {
			errs = append(errs, err)
		} else if seen[key(it)] {
			errs = append(errs, recipes.Errorf(recipes.EINVALID, "%s %q appears twice", kind, key(it)))
		}
		seen[key(it)] = true
	}
	return errs
}
