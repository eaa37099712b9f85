package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// maxAttempts bounds how often a write retries after a concurrent write
// changed a key it had WATCHed.
const maxAttempts = 8

// What a write WATCHes. A write WATCHes only the keys its decision depends
// on, so that writers of different recipes never abort each other:
//
//   - a recipe write WATCHes the recipe's own keys (its published and
//     draft JSON). The catalog-wide hashes that also list it (rcpcat,
//     draft:rcps) change for that id only together with those keys, so
//     reading its field there needs no WATCH of the whole hash;
//   - a write that needs a category to exist WATCHes the category's
//     catgen key, which only removing the category changes (INCR, inside
//     the removal's MULTI), and reads the draft hash before the published
//     one: publishing moves a category from one to the other atomically,
//     so in that order no read can miss it;
//   - whole-catalog writes (category removal, reorder, sync, import) still
//     WATCH the catalog-wide keys that recipe writes change, so they see
//     every recipe written under them;
//   - the catalog version is never WATCHed by a single write: it is
//     INCR'd inside the MULTI, which needs no read.
//
// When a WATCHed key did change, the write retries after a jittered,
// growing pause, so that writers that collided do not collide again.

// backoff waits before retry attempt (1, 2, ...): a random time up to
// 2^attempt ms, at most 100ms, or until ctx ends.
func backoff(ctx context.Context, attempt int) error {
	limit := min(time.Millisecond<<attempt, 100*time.Millisecond)
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// conflicted counts an EXEC that a concurrent write aborted and waits
// before the next attempt; false means ctx ended first.
func (s *Store) conflicted(ctx context.Context, attempt int) bool {
	s.conflicts.Add(1)
	return attempt+1 < maxAttempts && backoff(ctx, attempt+1) == nil
}

// queueFunc adds a write's commands to its MULTI/EXEC.
type queueFunc func(ctx context.Context, p redis.Pipeliner)

// write runs prepare, which reads under WATCH of keys and returns the
// commands to queue, then executes them with INCR version in one
// MULTI/EXEC. It retries from prepare when a watched key changed, and on
// success invalidates the local cache and announces the new version. The
// whole attempt is bounded by rounds times the store's timeout.
func (s *Store) write(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	return s.writeTx(ctx, op, rounds, keys, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		q, err := prepare(ctx, tx)
		return q, true, err
	})
}

// writeTx is [Store.write] whose prepare also says whether the write
// changes published content: only then is the version bumped and the
// change announced (devices alone are written without). A failure after
// EXEC was sent wraps [ErrOutcomeUnknown].
func (s *Store) writeTx(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (q queueFunc, content bool, err error),
) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(rounds)*s.opts.Timeout)
	defer cancel()
	for attempt := range maxAttempts {
		var perr error
		var version *redis.IntCmd
		sent := false
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			queue, content, err := prepare(ctx, tx)
			if perr = err; err != nil {
				return err
			}
			sent = true
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				queue(ctx, p)
				if content {
					version = p.Incr(ctx, s.keys.version)
				}
				return nil
			})
			return err
		}, keys...)
		switch {
		case perr != nil:
			return perr
		case errors.Is(err, redis.TxFailedErr):
			if s.conflicted(ctx, attempt) {
				continue
			}
			return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
		case errors.As(err, new(unsaved)):
			// The embedded store undid it (see embedded.Store.logged): known not
			// to have happened, but a reader may have cached it meanwhile.
			s.invalidate(-1)
			return storeErr(op, err)
		case err != nil && sent:
			// EXEC may have run (in part); don't trust the cache.
			s.invalidate(-1)
			return fmt.Errorf("%w (%w)", storeErr(op, err), ErrOutcomeUnknown)
		case err != nil:
			return storeErr(op, err)
		}
		if version != nil {
			s.committed(ctx, version.Val())
		}
		return nil
	}
	return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
}

// committed makes a write at version v visible: the local cache at once,
// other processes through the change channel (or, if the publish fails,
// through their version poll).
func (s *Store) committed(ctx context.Context, v int64) {
	s.invalidate(v)
	ctx, cancel := s.rt(context.WithoutCancel(ctx))
	defer cancel()
	if err := s.rdb.Publish(ctx, s.keys.changes, v).Err(); err != nil {
		s.log.Warn("cannot announce catalog change", "version", v, "error", err)
	}
}

// errNoChange ends a write whose prepare found nothing to do.
var errNoChange = errors.New("catalog: nothing to change")

// update runs prepare under WATCH of keys and executes what it queues in
// one MULTI/EXEC, retrying when a watched key changed. It is [Store.write]
// without the version bump, for drafts and staff data, which appliances
// never see.
func (s *Store) update(ctx context.Context, op string, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	for attempt := range maxAttempts {
		var perr error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var queue queueFunc
			if queue, perr = prepare(ctx, tx); perr != nil {
				return perr
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				queue(ctx, p)
				return nil
			})
			return err
		}, keys...)
		switch {
		case errors.Is(perr, errNoChange):
			return nil
		case perr != nil:
			return perr
		case errors.Is(err, redis.TxFailedErr):
			if s.conflicted(ctx, attempt) {
				continue
			}
			return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
		case err != nil:
			return storeErr(op, err)
		}
		return nil
	}
	return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
}

// publishing is [Store.write] for changes appliances see; a prepare that
// returns errNoChange makes it a successful no-op.
func (s *Store) publishing(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	err := s.write(ctx, op, rounds, keys, prepare)
	if errors.Is(err, errNoChange) {
		return nil
	}
	return err
}
