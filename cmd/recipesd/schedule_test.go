package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// demoRecipes are demo recipes the schedule tests edit.
var demoRecipes = []string{"carrot-puree", "sweet-potato-apple-puree", "pea-courgette-puree"}

// mustEditAndSchedule saves a draft of each demo recipe in ids, titled
// "<id> (new)", and schedules its publish at at.
func mustEditAndSchedule(tb testing.TB, s *catalog.Store, at time.Time, ids ...string) {
	tb.Helper()
	ctx := recipes.WithActor(context.Background(), recipes.Actor{Kind: recipes.ActorStaff, Name: "admin"})
	for _, id := range ids {
		r, _, err := s.EditorRecipe(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		r.Title = id + " (new)"
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			tb.Fatal(err)
		}
		if err := s.Schedule(ctx, recipes.ScheduleRecipe, id, at); err != nil {
			tb.Fatal(err)
		}
	}
}

// mustOutcomes waits until nothing is scheduled and returns the outcomes.
func mustOutcomes(tb testing.TB, s *catalog.Store) []recipes.ScheduledPublish {
	tb.Helper()
	ctx := context.Background()
	eventually(tb, "the scheduled publishes to fire", func() bool {
		left, err := s.Scheduled(ctx)
		return err == nil && len(left) == 0
	})
	outs, err := s.ScheduleOutcomes(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return outs
}

func wantPublished(tb testing.TB, s *catalog.Store, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		doc, err := s.Find(context.Background(), recipes.Query{Category: "baby-food", RecipeID: id})
		if err != nil {
			tb.Fatal(err)
		}
		if !strings.Contains(string(doc.Data), `"title":"`+id+` (new)"`) {
			tb.Errorf("%s: appliances see %s, want the scheduled draft", id, doc.Data)
		}
	}
}

// TestScheduledPublishTwoNodes: both nodes of a cluster run the scheduler;
// each scheduled publish fires once.
func TestScheduledPublishTwoNodes(t *testing.T) {
	fast := func(c *Config) { c.ScheduleInterval = 10 * time.Millisecond }
	a := MustRunMain(t, fast)
	MustRunMainOn(t, a.Redis, fast)
	mustEditAndSchedule(t, a.Store, time.Now().Add(200*time.Millisecond), demoRecipes...)

	outs := mustOutcomes(t, a.Store)
	if len(outs) != len(demoRecipes) {
		t.Fatalf("%d outcomes, want one per scheduled publish: %+v", len(outs), outs)
	}
	for _, o := range outs {
		if o.Outcome.Failed() {
			t.Errorf("%s failed: %s", o.ID, o.Outcome.Error)
		}
	}
	wantPublished(t, a.Store, demoRecipes...)
}

// TestScheduledPublishAfterRestart: a publish that came due while the
// server was down fires as soon as it starts again (the embedded store
// keeps the schedule), once.
func TestScheduledPublishAfterRestart(t *testing.T) {
	dir := t.TempDir()
	embedded := func(c *Config) {
		c.RedisURL, c.DataDir = "", dir
		c.ScheduleInterval = time.Hour // only the round at start can fire it
	}
	a := MustRunMain(t, embedded)
	at := time.Now().Add(300 * time.Millisecond)
	mustEditAndSchedule(t, a.Store, at, demoRecipes[0])
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(at) + 10*time.Millisecond) // due while down

	b := MustRunMain(t, embedded)
	outs := mustOutcomes(t, b.Store)
	if len(outs) != 1 || outs[0].ID != demoRecipes[0] || outs[0].Outcome.Failed() {
		t.Fatalf("outcomes %+v, want %s published", outs, demoRecipes[0])
	}
	wantPublished(t, b.Store, demoRecipes[0])
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	c := MustRunMain(t, embedded)
	if outs, err := c.Store.ScheduleOutcomes(context.Background()); err != nil || len(outs) != 1 {
		t.Errorf("after another restart: %d outcomes (%v), want the one", len(outs), err)
	}
}

// TestScheduleFiredHook: OnScheduleFired hears of each fire, as the
// scheduler, with the failure's reason.
func TestScheduleFiredHook(t *testing.T) {
	s := MustRunMain(t)
	at := time.Now().Add(time.Hour)
	mustEditAndSchedule(t, s.Store, at, demoRecipes[:2]...)
	if err := s.Store.DiscardRecipe(context.Background(), demoRecipes[1]); err != nil {
		t.Fatal(err)
	}
	type heard struct {
		id    string
		actor recipes.Actor
		err   string
	}
	var mu sync.Mutex
	var got []heard
	m := &Main{Store: s.Store, Logger: s.Logger, audit: s.audit, OnScheduleFired: func(ctx context.Context, p recipes.ScheduledPublish, err error) {
		h := heard{id: p.ID, actor: recipes.ActorFrom(ctx)}
		if err != nil {
			h.err = err.Error()
		}
		mu.Lock()
		got = append(got, h)
		mu.Unlock()
	}}
	m.publishDue(context.Background(), at)
	want := map[string]string{demoRecipes[0]: "", demoRecipes[1]: `recipe "` + demoRecipes[1] + `" had no unpublished changes left to publish`}
	if len(got) != 2 {
		t.Fatalf("heard %+v, want both", got)
	}
	for _, h := range got {
		if h.actor != recipes.SchedulerActor || h.err != want[h.id] {
			t.Errorf("heard %+v, want actor %v, error %q", h, recipes.SchedulerActor, want[h.id])
		}
	}

	// Each fire is in the audit log once, as the scheduler, with who
	// scheduled it.
	page, err := s.audit.Entries(context.Background(), recipes.AuditFilter{Actor: recipes.SchedulerActor.String()})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]string{}
	for _, e := range page.Entries {
		if e.Action != "scheduled publish" || !strings.Contains(e.Detail, "scheduled by ") {
			t.Errorf("audit entry %+v", e)
		}
		if _, dup := outcomes[e.Target]; dup {
			t.Errorf("%s recorded twice", e.Target)
		}
		outcomes[e.Target] = e.Outcome
	}
	if o := outcomes["recipe="+demoRecipes[0]]; o != recipes.AuditOK {
		t.Errorf("audit outcome of the publish: %q (all: %v)", o, outcomes)
	}
	if o := outcomes["recipe="+demoRecipes[1]]; !strings.HasPrefix(o, "failed: ") {
		t.Errorf("audit outcome of the failed publish: %q (all: %v)", o, outcomes)
	}
}
