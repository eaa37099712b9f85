package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// startScheduler publishes the catalog's scheduled publishes as they come
// due: at once (a publish that came due while every node was down fires
// now) and then every -schedule-interval, until Close. Every node runs it;
// each publish fires on one of them only (see catalog.Store.PublishDue).
func (m *Main) startScheduler(ctx context.Context) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(m.Config.ScheduleInterval)
		defer t.Stop()
		for {
			m.publishDue(sctx, time.Now())
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	m.stopScheduler = func() { cancel(); <-done }
}

// publishDue fires what is due at now and tells OnScheduleFired of each.
// A publish left undone by a passing failure stays scheduled for the next
// round, so its error is only logged.
func (m *Main) publishDue(ctx context.Context, now time.Time) {
	fired, err := m.Store.PublishDue(ctx, now)
	if err != nil && ctx.Err() == nil {
		m.Logger.Warn("scheduled publishes left for the next round", "component", "scheduler", "error", err)
	}
	ctx = recipes.WithActor(context.WithoutCancel(ctx), recipes.SchedulerActor)
	for _, f := range fired {
		var ferr error
		if f.Outcome.Failed() {
			ferr = errors.New(f.Outcome.Error)
		}
		m.recordFired(ctx, f, ferr)
		if m.OnScheduleFired != nil {
			m.OnScheduleFired(ctx, f, ferr)
		}
	}
}

// recordFired writes a fired publish to the audit log, as the scheduler,
// naming who scheduled it. The publish happened either way: a log that
// cannot record is only warned about.
func (m *Main) recordFired(ctx context.Context, f recipes.ScheduledPublish, err error) {
	if m.audit == nil {
		return
	}
	e := recipes.AuditEntry{
		Actor:   recipes.SchedulerActor,
		Action:  "scheduled publish",
		Target:  f.Kind + "=" + f.ID,
		Outcome: recipes.AuditOK,
		Detail:  fmt.Sprintf("scheduled by %s for %s", f.By, f.At.UTC().Format(time.RFC3339)),
	}
	if err != nil {
		e.Outcome = "failed: " + err.Error()
	}
	if rerr := m.audit.Record(ctx, e); rerr != nil {
		m.Logger.Warn("the audit log did not record a scheduled publish", "component", "scheduler", "target", e.Target, "error", rerr)
	}
}
