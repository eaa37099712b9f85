package main

import (
	"context"
	"errors"
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
	if m.OnScheduleFired == nil {
		return
	}
	ctx = recipes.WithActor(context.WithoutCancel(ctx), recipes.SchedulerActor)
	for _, f := range fired {
		var ferr error
		if f.Outcome.Failed() {
			ferr = errors.New(f.Outcome.Error)
		}
		m.OnScheduleFired(ctx, f, ferr)
	}
}
