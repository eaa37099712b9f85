package identity

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// maxAttempts bounds how often a write retries after a concurrent write
// changed a key it had WATCHed.
const maxAttempts = 8

// queueFunc adds a write's commands to its MULTI/EXEC.
type queueFunc func(ctx context.Context, p redis.Pipeliner)

// errNoChange ends a write whose prepare found nothing to do.
var errNoChange = errors.New("identity: nothing to change")

// update runs prepare under WATCH of keys and executes what it queues in
// one MULTI/EXEC, retrying after a jittered pause when a watched key
// changed, so that writers that collided do not collide again. The whole
// attempt is bounded by rounds round trips. A prepare that returns
// errNoChange makes it a successful no-op.
func (s *Store) update(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(rounds)*s.opts.Timeout)
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
			if attempt+1 < maxAttempts && backoff(ctx, attempt+1) == nil {
				continue
			}
		case err != nil:
			return storeErr(op, err)
		default:
			return nil
		}
		break
	}
	return recipes.Errorf(recipes.ECONFLICT, "the store kept changing during %s; try again", op)
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

// hgetBytes reads one field under WATCH; nil if there is none.
func hgetBytes(ctx context.Context, tx *redis.Tx, op, key, field string) ([]byte, error) {
	b, err := tx.HGet(ctx, key, field).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(op, err)
	}
	return b, nil
}
