package catalog

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// ErrOutcomeUnknown is wrapped by the error of a write whose MULTI/EXEC
// was sent but whose answer never came (or came with an error): it may
// have been applied, in full or in part. Anything made for that write and
// kept nowhere else, such as the secrets issued to new devices, must then
// be kept.
var ErrOutcomeUnknown = errors.New("catalog: the write may have been applied")

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
// growing pause, so that writers that collided do not collide again (see
// [redisconn.Edge.Update]); every such conflict is counted in
// [MetricConflicts].

// queueFunc adds a write's commands to its MULTI/EXEC.
type queueFunc = redisconn.Queue

// errNoChange ends a write whose prepare found nothing to do: the write
// succeeds without writing.
var errNoChange = redisconn.ErrNoChange

// publishing runs prepare, which reads under WATCH of keys and returns the
// commands to queue, then executes them with INCR version in one
// MULTI/EXEC, for changes appliances see. It retries from prepare when a
// watched key changed, and on success invalidates the local cache and
// announces the new version. The whole attempt is bounded by rounds times
// the store's timeout.
func (s *Store) publishing(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	return s.writeTx(ctx, op, rounds, keys, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		q, err := prepare(ctx, tx)
		return q, true, err
	})
}

// writeTx is [Store.publishing] whose prepare also says whether the write
// changes published content: only then is the version bumped and the
// change announced (devices alone are written without). A failure after
// EXEC was sent wraps [ErrOutcomeUnknown].
func (s *Store) writeTx(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (q queueFunc, content bool, err error),
) error {
	var version *redis.IntCmd
	sent := false // by the last attempt
	err := s.edge.Update(ctx, op, rounds, keys, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		version, sent = nil, false
		queue, content, err := prepare(ctx, tx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			sent = true
			queue(ctx, p)
			if content {
				version = p.Incr(ctx, s.keys.version)
			}
		}, nil
	})
	switch {
	case err == nil:
		if version != nil {
			s.committed(ctx, version.Val())
		}
		return nil
	case !sent || recipes.ErrorCode(err) == recipes.ECONFLICT:
		return err
	case errors.As(err, new(redisconn.Refusal)):
		// The embedded store undid it (see embedded.Store.logged): known not
		// to have happened, but a reader may have cached it meanwhile.
		s.invalidate(-1)
		return err
	default:
		// EXEC may have run (in part); don't trust the cache.
		s.invalidate(-1)
		return fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
	}
}

// committed makes a write at version v visible: the local cache at once,
// other processes through the change channel (or, if the publish fails,
// through their version poll).
func (s *Store) committed(ctx context.Context, v int64) {
	s.invalidate(v)
	ctx, cancel := s.edge.RT(context.WithoutCancel(ctx))
	defer cancel()
	if err := s.rdb.Publish(ctx, s.keys.changes, v).Err(); err != nil {
		s.log.Warn("cannot announce catalog change", "version", v, "error", err)
	}
}

// update is [Store.publishing] without the version bump, for drafts,
// which appliances never see.
func (s *Store) update(ctx context.Context, op string, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	return s.edge.Update(ctx, op, 4, keys, prepare)
}
