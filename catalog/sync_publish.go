package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// syncPublished is [Store.Sync] of published content, with the devices of
// opts in the same MULTI/EXEC.
func (s *Store) syncPublished(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, opts SyncOptions) ([]recipes.Change, error) {
	var devErr error
	devs := 0
	if opts.Devices != nil {
		devErr, devs = opts.Devices.Validate(), opts.Devices.Size()
	}
	if err := validateImport(cats, recs, devErr); err != nil {
		return nil, err
	}
	in, err := encodeSyncInput(cats, recs)
	if err != nil {
		return nil, err
	}
	var plan *syncPlan
	// Every write of published content bumps the version inside its
	// MULTI/EXEC, so watching the version notices any of them; drafts are
	// saved without, and are watched by their indexes; devices by their
	// own keys (see SyncDevices.Plan).
	watch := []string{s.keys.version, s.keys.draftRcps(), s.keys.draftCats()}
	rounds := 10 + len(recs)/200 + devs/500
	err = s.writeTx(ctx, "sync", rounds, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		var err error
		if plan, err = s.planSync(ctx, tx, in, opts.Prune); err != nil {
			return nil, false, err
		}
		devWrites := false
		if opts.Devices != nil {
			if devWrites, err = opts.Devices.Plan(ctx, tx, opts.DryRun); err != nil {
				return nil, false, err
			}
		}
		content := len(plan.changes) > 0
		if opts.DryRun || !content && !devWrites {
			return nil, false, errNoChange
		}
		var drafts carriedDrafts
		if content {
			if drafts, err = s.planCarriedDrafts(ctx, tx, plan); err != nil {
				return nil, false, err
			}
		}
		now := time.Now().UTC()
		return func(ctx context.Context, p redis.Pipeliner) {
			if content {
				b := s.bulk(ctx, p)
				queueSync(b, in, plan, now)
				queueCarriedDrafts(b, drafts)
				b.flush()
			}
			if devWrites {
				opts.Devices.Queue(ctx, p, now)
			}
		}, content, nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return nil, err
	}
	return plan.changes, nil
}
