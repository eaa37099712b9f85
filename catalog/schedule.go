package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Scheduled publishing. Keys (under the catalog's hash tag, so a fire's
// bookkeeping goes in the publish's own MULTI/EXEC):
//
//	{p}:sched        ZSET  score due time (unix ms), member "<kind>:<id>"
//	{p}:sched:items  HASH  "<kind>:<id>" -> recipes.ScheduledPublish JSON
//	{p}:sched:done   LIST  the last ScheduleOutcomesKept fired entries, with
//	                       their Outcome, newest first
//	{p}:sched:gen    STRING INCR in every MULTI/EXEC that changes the
//	                       schedule; what fires and cancels WATCH
//
// Every fire WATCHes {p}:sched:gen, reads its entry and removes it in the
// MULTI/EXEC that publishes, so of several nodes racing (or one retrying
// after a restart) exactly one publishes; the others find the entry gone.
// The generation key, not the hash, is WATCHed because miniredis (the
// embedded store) does not count HDEL or ZREM as changing a key that
// stays non-empty, so a WATCH of the hash would miss another node's fire.
// The cost is that fires of different entries abort each other and retry:
// the schedule is small and fires are rare, so that is cheap.

// ScheduleOutcomesKept is how many fired scheduled publishes the catalog
// remembers for editors to see (see [Store.ScheduleOutcomes]).
const ScheduleOutcomesKept = 50

func (k keys) sched() string      { return k.prefix + "sched" }
func (k keys) schedItems() string { return k.prefix + "sched:items" }
func (k keys) schedDone() string  { return k.prefix + "sched:done" }
func (k keys) schedGen() string   { return k.prefix + "sched:gen" }

func schedField(kind, id string) string { return kind + ":" + id }

// Schedule sets the pending changes of a recipe (kind [recipes.ScheduleRecipe])
// or a category (kind [recipes.ScheduleCategory]: its draft and its recipes'
// drafts) to be published at at, as recipes.ActorFrom(ctx) asks; scheduling
// the same item again replaces the time. It returns EINVALID for an
// unknown kind, a time not in the future, or an item with nothing to
// publish, and ENOTFOUND if there is no such item.
func (s *Store) Schedule(ctx context.Context, kind, id string, at time.Time) error {
	if err := recipes.ValidateScheduleKind(kind); err != nil {
		return err
	}
	now := time.Now()
	switch {
	case at.IsZero():
		return recipes.Errorf(recipes.EINVALID, "at: a time is required")
	case !at.After(now):
		return recipes.Errorf(recipes.EINVALID, "at: %s is not in the future (now it is %s)",
			at.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	e := recipes.ScheduledPublish{
		Kind: kind, ID: id, At: at.UTC().Truncate(time.Millisecond),
		By: recipes.ActorFrom(ctx), ScheduledAt: now.UTC().Truncate(time.Millisecond),
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	op := "schedule " + kind + " " + id
	var watch []string
	if kind == recipes.ScheduleRecipe {
		watch = []string{s.keys.draftRcp(id), s.keys.rcp(id)}
	} else {
		watch = []string{s.keys.cats, s.keys.draftCats(), s.keys.draftRcps()}
	}
	return s.update(ctx, op, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		if err := s.checkPending(ctx, tx, op, kind, id); err != nil {
			return nil, err
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			f := schedField(kind, id)
			p.HSet(ctx, s.keys.schedItems(), f, raw)
			p.ZAdd(ctx, s.keys.sched(), redis.Z{Score: float64(e.At.UnixMilli()), Member: f})
			p.Incr(ctx, s.keys.schedGen())
		}, nil
	})
}

// checkPending returns nil if the item has something to publish, read
// under tx's WATCH.
func (s *Store) checkPending(ctx context.Context, tx *redis.Tx, op, kind, id string) error {
	if kind == recipes.ScheduleRecipe {
		drafts, _, err := s.watchRecipe(ctx, tx, op, id)
		if err != nil {
			return err
		}
		if drafts[0] == nil {
			return recipes.Errorf(recipes.EINVALID, "recipe %q has no unpublished changes: there is nothing to publish", id)
		}
		return nil
	}
	draft, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), id))
	if err != nil || draft != nil {
		return err
	}
	ids, err := s.draftsIn(ctx, tx, id)
	if err != nil || len(ids) > 0 {
		return err
	}
	ok, err := tx.HExists(ctx, s.keys.cats, id).Result()
	switch {
	case err != nil:
		return storeErr(op, err)
	case !ok:
		return categoryNotFound(id)
	}
	return recipes.Errorf(recipes.EINVALID, "category %q and its recipes have no unpublished changes: there is nothing to publish", id)
}

// Unschedule cancels the scheduled publish of an item; ENOTFOUND if none
// is scheduled, EINVALID for an unknown kind.
func (s *Store) Unschedule(ctx context.Context, kind, id string) error {
	if err := recipes.ValidateScheduleKind(kind); err != nil {
		return err
	}
	f := schedField(kind, id)
	return s.update(ctx, "unschedule "+kind+" "+id, []string{s.keys.schedGen()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			ok, err := tx.HExists(ctx, s.keys.schedItems(), f).Result()
			switch {
			case err != nil:
				return nil, storeErr("unschedule", err)
			case !ok:
				return nil, recipes.Errorf(recipes.ENOTFOUND, "no publish of %s %q is scheduled", kind, id)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HDel(ctx, s.keys.schedItems(), f)
				p.ZRem(ctx, s.keys.sched(), f)
				p.Incr(ctx, s.keys.schedGen())
			}, nil
		})
}

// Scheduled returns every scheduled publish, the soonest first.
func (s *Store) Scheduled(ctx context.Context) ([]recipes.ScheduledPublish, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	fields, err := s.rdb.ZRange(ctx, s.keys.sched(), 0, -1).Result()
	if err != nil {
		return nil, storeErr("list scheduled publishes", err)
	}
	if len(fields) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.keys.schedItems(), fields...).Result()
	if err != nil {
		return nil, storeErr("list scheduled publishes", err)
	}
	out := make([]recipes.ScheduledPublish, 0, len(vals))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // fired or cancelled between the two reads
		}
		var e recipes.ScheduledPublish
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, corrupt(s.keys.schedItems()+" "+fields[i], err)
		}
		out = append(out, e)
	}
	return out, nil
}

// ScheduleOutcomes returns the last [ScheduleOutcomesKept] scheduled
// publishes that fired, newest first, each with its Outcome: what it
// published or why it failed.
func (s *Store) ScheduleOutcomes(ctx context.Context) ([]recipes.ScheduledPublish, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	vals, err := s.rdb.LRange(ctx, s.keys.schedDone(), 0, ScheduleOutcomesKept-1).Result()
	if err != nil {
		return nil, storeErr("list scheduled publish outcomes", err)
	}
	out := make([]recipes.ScheduledPublish, 0, len(vals))
	for _, raw := range vals {
		var e recipes.ScheduledPublish
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, corrupt(s.keys.schedDone(), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// publishHook is more work for a publish's transaction: it runs before
// the publish reads anything, under the publish's WATCH (it may WATCH more
// keys), and the commands it returns are queued after the publish's, when
// pubd holds what the publish publishes. Kept apart from the publish's own
// code so that other bookkeeping can join the same way.
type publishHook func(ctx context.Context, tx *redis.Tx, pubd *recipes.Publication) (queueFunc, error)

// around returns prepare with h's work before and after it; a nil h
// returns prepare itself.
func (h publishHook) around(pubd *recipes.Publication,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
	if h == nil {
		return prepare
	}
	return func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		after, err := h(ctx, tx, pubd)
		if err != nil {
			return nil, err
		}
		q, err := prepare(ctx, tx)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			q(ctx, p)
			after(ctx, p)
		}, nil
	}
}

// errNotDue ends a fire whose entry, read under WATCH, is gone (fired by
// another node, or cancelled) or no longer due (scheduled again, later).
var errNotDue = errors.New("catalog: scheduled publish no longer due")
