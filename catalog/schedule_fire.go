package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// dueBatch bounds how many due entries one [Store.PublishDue] fires; the
// rest wait for the next call.
const dueBatch = 100

// PublishDue publishes every scheduled publish due at now, as
// [recipes.SchedulerActor], and returns those it fired with their
// Outcome. Each entry is removed in the MULTI/EXEC that publishes it, so
// however many nodes call this at once, and whatever restarts in between,
// each fires exactly once. A publish that cannot happen (its draft
// discarded, its item deleted, its draft no longer valid, nothing left to
// publish) removes the entry too and is returned, and kept, with
// Outcome.Error saying why. A publish that failed for a passing reason
// (the store unreachable, a conflict) stays scheduled and is tried again
// on the next call; those errors are returned joined.
func (s *Store) PublishDue(ctx context.Context, now time.Time) ([]recipes.ScheduledPublish, error) {
	rctx, cancel := s.edge.RT(ctx)
	fields, err := s.rdb.ZRangeByScore(rctx, s.keys.sched(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: dueBatch,
	}).Result()
	cancel()
	if err != nil {
		return nil, storeErr("list due publishes", err)
	}
	var fired []recipes.ScheduledPublish
	var errs []error
	for _, f := range fields {
		e, ok, err := s.fire(ctx, f, now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			fired = append(fired, e)
		}
	}
	return fired, errors.Join(errs...)
}

// fire publishes the entry field if it is still due at now; it reports
// false when another node fired it first or it was cancelled or moved.
func (s *Store) fire(ctx context.Context, field string, now time.Time) (recipes.ScheduledPublish, bool, error) {
	ctx = recipes.WithActor(ctx, recipes.SchedulerActor)
	kind, id, _ := strings.Cut(field, ":")
	var entry recipes.ScheduledPublish
	hook := func(ctx context.Context, tx *redis.Tx, pubd *recipes.Publication) (queueFunc, error) {
		e, err := s.dueEntry(ctx, tx, field, now)
		if err != nil {
			return nil, err
		}
		entry = e
		return func(ctx context.Context, p redis.Pipeliner) {
			e.Outcome = &recipes.ScheduleOutcome{FiredAt: now.UTC(), Published: *pubd}
			s.queueFired(ctx, p, field, e)
		}, nil
	}
	var pubd recipes.Publication
	var err error
	switch kind {
	case recipes.ScheduleRecipe:
		pubd, err = s.publishRecipe(ctx, id, hook)
	case recipes.ScheduleCategory:
		pubd, err = s.publishCategory(ctx, id, hook)
	default:
		err = recipes.ValidateScheduleKind(kind)
	}
	var why string
	switch code := recipes.ErrorCode(err); {
	case errors.Is(err, errNotDue):
		return recipes.ScheduledPublish{}, false, nil
	case err == nil && !pubd.Empty():
		entry.Outcome = &recipes.ScheduleOutcome{FiredAt: now.UTC(), Published: pubd}
		s.log.Info("scheduled publish done", "kind", kind, "id", id, "scheduled_by", entry.By.String(),
			"categories", len(pubd.Categories), "recipes", len(pubd.Recipes))
		return entry, true, nil
	case err == nil:
		// The hook ran, but the publish found nothing to do: the draft
		// was discarded or published by hand since.
		why = fmt.Sprintf("%s %q had no unpublished changes left to publish", kind, id)
	case code == recipes.ENOTFOUND || code == recipes.EINVALID:
		why = recipes.ErrorMessage(err)
	default:
		return recipes.ScheduledPublish{}, false, fmt.Errorf("catalog: scheduled publish of %s %q (tried again later): %w", kind, id, err)
	}
	return s.recordFailure(ctx, field, now, why)
}

// recordFailure removes the due entry field and keeps it with why it
// did not publish, unless another node did so first.
func (s *Store) recordFailure(ctx context.Context, field string, now time.Time, why string) (recipes.ScheduledPublish, bool, error) {
	var e recipes.ScheduledPublish
	// dueEntry WATCHes the schedule's counter itself; naming it here too
	// keeps a Cluster client happy, which refuses a WATCH of no key.
	err := s.update(ctx, "record failed scheduled publish", []string{s.keys.schedGen()}, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		var err error
		if e, err = s.dueEntry(ctx, tx, field, now); err != nil {
			return nil, err
		}
		e.Outcome = &recipes.ScheduleOutcome{FiredAt: now.UTC(), Error: why}
		return func(ctx context.Context, p redis.Pipeliner) { s.queueFired(ctx, p, field, e) }, nil
	})
	switch {
	case errors.Is(err, errNotDue):
		return recipes.ScheduledPublish{}, false, nil
	case err != nil:
		return recipes.ScheduledPublish{}, false, fmt.Errorf("catalog: record failed scheduled publish %s: %w", field, err)
	}
	s.log.Warn("scheduled publish failed", "kind", e.Kind, "id", e.ID, "scheduled_by", e.By.String(), "error", why)
	return e, true, nil
}

// dueEntry WATCHes the schedule and returns entry field if it is due at
// now, or errNotDue.
func (s *Store) dueEntry(ctx context.Context, tx *redis.Tx, field string, now time.Time) (recipes.ScheduledPublish, error) {
	var e recipes.ScheduledPublish
	op := "fire scheduled publish " + field
	if err := tx.Watch(ctx, s.keys.schedGen()).Err(); err != nil {
		return e, storeErr(op, err)
	}
	raw, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.schedItems(), field))
	switch {
	case err != nil:
		return e, err
	case raw == nil:
		return e, errNotDue
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return e, corrupt(s.keys.schedItems()+" "+field, err)
	}
	if e.At.UnixMilli() > now.UnixMilli() {
		return e, errNotDue
	}
	return e, nil
}

// queueFired removes entry field from the schedule and keeps done, which
// carries its Outcome, among the last outcomes.
func (s *Store) queueFired(ctx context.Context, p redis.Pipeliner, field string, done recipes.ScheduledPublish) {
	raw, _ := json.Marshal(done) // plain data: cannot fail
	p.HDel(ctx, s.keys.schedItems(), field)
	p.ZRem(ctx, s.keys.sched(), field)
	p.Incr(ctx, s.keys.schedGen())
	p.LPush(ctx, s.keys.schedDone(), raw)
	p.LTrim(ctx, s.keys.schedDone(), 0, ScheduleOutcomesKept-1)
}
