package catalog

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// syncPublished is [Store.Sync] of published content, then the devices
// of opts.
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
	tr := collectTranslations(cats, recs)
	if opts.Devices != nil {
		if err := opts.Devices.Plan(ctx, opts.DryRun); err != nil {
			return nil, err
		}
	}
	var plan *syncPlan
	// Every write of published content bumps the version inside its
	// MULTI/EXEC, so watching the version notices any of them; drafts are
	// saved without, and are watched by their indexes.
	watch := []string{s.keys.version, s.keys.draftRcps(), s.keys.draftCats(), s.keys.settings(), s.keys.revSeq()}
	rounds := 10 + len(recs)/200
	err = s.writeTx(ctx, "sync", rounds, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		langs, setLangs, err := s.syncLanguages(ctx, tx, tr, opts.Languages, opts.Prune)
		if err != nil {
			return nil, false, err
		}
		if plan, err = s.planSync(ctx, tx, in, opts.Prune); err != nil {
			return nil, false, err
		}
		if setLangs {
			plan.changes = append(plan.changes, languagesChange(langs))
		}
		if opts.DryRun || len(plan.changes) == 0 {
			return nil, false, errNoChange
		}
		drafts, err := s.planCarriedDrafts(ctx, tx, plan)
		if err != nil {
			return nil, false, err
		}
		revs, err := s.prepareRevisions(ctx, tx, syncNotes(in, plan, drafts), false)
		if err != nil {
			return nil, false, err
		}
		now := time.Now().UTC()
		return func(ctx context.Context, p redis.Pipeliner) {
			b := s.bulk(ctx, p)
			queueSync(b, in, plan, now)
			queueCarriedDrafts(b, drafts)
			b.putRevisions(syncSnapshots(revs, in, plan))
			b.flush()
			if setLangs {
				s.queueLanguages(langs)(ctx, p)
			}
		}, true, nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return nil, err
	}
	if opts.Devices != nil && !opts.DryRun {
		dctx, cancel := context.WithTimeout(ctx, time.Duration(4+devs/500)*s.edge.Timeout()*redisconn.MaxAttempts)
		defer cancel()
		if err := opts.Devices.Write(dctx, time.Now().UTC()); err != nil {
			return plan.changes, err
		}
	}
	return plan.changes, nil
}
