package redisconn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// MaxAttempts bounds how often a write tries when concurrent writes keep
// changing a key it WATCHes; a read that starts again when the data
// changed under it may use it too.
const MaxAttempts = 8

// Queue adds a write's commands to its MULTI/EXEC.
type Queue func(ctx context.Context, p redis.Pipeliner)

// ErrNoChange ends, returned by the prepare step of [Edge.Update], a
// write that found nothing to do: Update returns nil.
var ErrNoChange = errors.New("nothing to change")

// Update runs prepare, which reads under WATCH of keys and returns the
// commands to queue, and executes them in one MULTI/EXEC. When a watched
// key changed meanwhile, it counts the conflict and retries from prepare
// after a jittered, growing pause, so that writers that collided do not
// collide again; after MaxAttempts, or once ctx ends, it gives up with
// ECONFLICT. The whole write is bounded by rounds round trips. An error of
// prepare is returned as it is, [ErrNoChange] as nil, an error of Redis
// translated by [Edge.Err]. A caller that needs to know whether EXEC was
// sent sees it by its Queue being called.
func (e *Edge) Update(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (Queue, error),
) error {
	// A Redis Cluster client refuses a WATCH of no key, and a standalone
	// one runs it: refuse it everywhere, so that tests on one Redis catch
	// what only a Cluster would.
	if len(keys) == 0 {
		return fmt.Errorf("%s: %s: a write must WATCH at least one key", e.pkg, op)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(rounds)*e.timeout)
	defer cancel()
	for attempt := range MaxAttempts {
		var perr error
		err := e.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var queue Queue
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
		case errors.Is(perr, ErrNoChange):
			return nil
		case perr != nil:
			return perr
		case errors.Is(err, redis.TxFailedErr):
			e.conflicts.Add(1)
			if attempt+1 < MaxAttempts && backoff(ctx, attempt+1) == nil {
				continue
			}
		case err != nil:
			return e.Err(op, err)
		default:
			return nil
		}
		break
	}
	return recipes.Errorf(recipes.ECONFLICT, "the %s kept changing during %s; try again", e.subject, op)
}

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
