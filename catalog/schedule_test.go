package catalog_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// mustSchedule schedules kind id at at, as alice.
func mustSchedule(tb testing.TB, s *catalog.Store, kind, id string, at time.Time) {
	tb.Helper()
	if err := s.Schedule(recipes.WithActor(context.Background(), alice), kind, id, at); err != nil {
		tb.Fatalf("Schedule(%s %s): %v", kind, id, err)
	}
}

func mustPublishDue(tb testing.TB, s *catalog.Store, now time.Time) []recipes.ScheduledPublish {
	tb.Helper()
	fired, err := s.PublishDue(context.Background(), now)
	if err != nil {
		tb.Fatalf("PublishDue(%s): %v", now, err)
	}
	return fired
}

func mustScheduled(tb testing.TB, s *catalog.Store) []recipes.ScheduledPublish {
	tb.Helper()
	got, err := s.Scheduled(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

func publishedTitle(tb testing.TB, s *catalog.Store, slug, id string) string {
	tb.Helper()
	return decode[recipes.Recipe](tb, mustFind(tb, s, recipes.Query{Category: slug, RecipeID: id})).Title
}

// editTomato saves a draft of the published tomato soup.
func editTomato(tb testing.TB, s *catalog.Store) {
	tb.Helper()
	if _, err := s.SaveRecipe(context.Background(), recipe("tomato", "soups", "Tomato soup, roasted")); err != nil {
		tb.Fatal(err)
	}
}

func TestSchedulePublishesOnceAtItsTime(t *testing.T) {
	s := MustOpenStore(t)
	seedThreeSoups(t, s)
	editTomato(t, s)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	mustSchedule(t, s, recipes.ScheduleRecipe, "tomato", at)

	got := mustScheduled(t, s)
	if len(got) != 1 || got[0].Kind != "recipe" || got[0].ID != "tomato" || !got[0].At.Equal(at) || got[0].By != alice || got[0].Outcome != nil {
		t.Fatalf("Scheduled = %+v, want tomato at %s by alice", got, at)
	}

	if fired := mustPublishDue(t, s, at.Add(-time.Millisecond)); len(fired) != 0 {
		t.Fatalf("fired before its time: %+v", fired)
	}
	if got := publishedTitle(t, s, "soups", "tomato"); got != "Tomato soup" {
		t.Fatalf("published before its time: %q", got)
	}

	fired := mustPublishDue(t, s, at)
	if len(fired) != 1 || fired[0].ID != "tomato" || fired[0].By != alice || fired[0].Outcome.Failed() {
		t.Fatalf("fired = %+v, want tomato published", fired)
	}
	if diff := cmp.Diff(recipes.Publication{Recipes: []string{"tomato"}}, fired[0].Outcome.Published); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	if got := publishedTitle(t, s, "soups", "tomato"); got != "Tomato soup, roasted" {
		t.Errorf("after fire: %q, want the draft's title", got)
	}
	if got := mustScheduled(t, s); len(got) != 0 {
		t.Errorf("still scheduled after firing: %+v", got)
	}
	if fired := mustPublishDue(t, s, at.Add(time.Hour)); len(fired) != 0 {
		t.Errorf("fired again: %+v", fired)
	}
	outs, err := s.ScheduleOutcomes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 1 || outs[0].ID != "tomato" || outs[0].Outcome == nil || outs[0].Outcome.Failed() || !outs[0].Outcome.FiredAt.Equal(at) {
		t.Errorf("outcomes = %+v, want tomato's success", outs)
	}
}

func TestScheduleCategoryPublishesItAndItsRecipes(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "salads", Name: "Salads"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRecipe(ctx, recipe("caesar", "salads", "Caesar salad")); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Minute)
	mustSchedule(t, s, recipes.ScheduleCategory, "salads", at)
	fired := mustPublishDue(t, s, at)
	if len(fired) != 1 {
		t.Fatalf("fired = %+v", fired)
	}
	if diff := cmp.Diff(recipes.Publication{Categories: []string{"salads"}, Recipes: []string{"caesar"}}, fired[0].Outcome.Published); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	if got := publishedTitle(t, s, "salads", "caesar"); got != "Caesar salad" {
		t.Errorf("caesar %q", got)
	}
}

func TestScheduleAgainReplacesTheTime(t *testing.T) {
	s := MustOpenStore(t)
	seedThreeSoups(t, s)
	editTomato(t, s)
	first, later := time.Now().Add(time.Minute), time.Now().Add(time.Hour)
	mustSchedule(t, s, recipes.ScheduleRecipe, "tomato", first)
	mustSchedule(t, s, recipes.ScheduleRecipe, "tomato", later)
	if got := mustScheduled(t, s); len(got) != 1 || !got[0].At.Equal(later.UTC().Truncate(time.Millisecond)) {
		t.Fatalf("Scheduled = %+v, want one entry at %s", got, later)
	}
	if fired := mustPublishDue(t, s, first.Add(time.Second)); len(fired) != 0 {
		t.Fatalf("fired at the replaced time: %+v", fired)
	}
	if fired := mustPublishDue(t, s, later); len(fired) != 1 {
		t.Fatalf("fired at the new time: %+v", fired)
	}
}

func TestUnschedule(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	editTomato(t, s)
	t.Run("ErrNotFound", func(t *testing.T) {
		assertCode(t, s.Unschedule(ctx, recipes.ScheduleRecipe, "tomato"), recipes.ENOTFOUND, `no publish of recipe "tomato" is scheduled`)
	})
	t.Run("OK", func(t *testing.T) {
		at := time.Now().Add(time.Minute)
		mustSchedule(t, s, recipes.ScheduleRecipe, "tomato", at)
		if err := s.Unschedule(ctx, recipes.ScheduleRecipe, "tomato"); err != nil {
			t.Fatal(err)
		}
		if fired := mustPublishDue(t, s, at.Add(time.Hour)); len(fired) != 0 {
			t.Fatalf("a cancelled publish fired: %+v", fired)
		}
		if got := mustScheduled(t, s); len(got) != 0 {
			t.Fatalf("Scheduled = %+v", got)
		}
		if got := statuses(t, s, "soups")["tomato"]; got != recipes.Changed {
			t.Errorf("draft after cancel: %q, want it kept", got)
		}
	})
}

func TestScheduleRefusesBadInput(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	editTomato(t, s)
	future := time.Now().Add(time.Hour)
	past := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, kind, id string
		at             time.Time
		code, msg      string
	}{
		{"UnknownKind", "device", "x", future, recipes.EINVALID, `kind "device": must be "recipe" or "category"`},
		{"NoTime", "recipe", "tomato", time.Time{}, recipes.EINVALID, "at: a time is required"},
		{"Past", "recipe", "tomato", past, recipes.EINVALID, ""},
		{"RecipeWithoutChanges", "recipe", "leek", future, recipes.EINVALID, `recipe "leek" has no unpublished changes: there is nothing to publish`},
		{"NoSuchRecipe", "recipe", "nope", future, recipes.ENOTFOUND, `recipe "nope" not found`},
		{"CategoryWithoutChanges", "category", "breads", future, recipes.ENOTFOUND, `category "breads" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCode(t, s.Schedule(ctx, tt.kind, tt.id, tt.at), tt.code, tt.msg)
		})
	}
	t.Run("PastSaysWhen", func(t *testing.T) {
		msg := recipes.ErrorMessage(s.Schedule(ctx, "recipe", "tomato", past))
		if want := "at: 2020-01-02T03:04:05Z is not in the future (now it is "; len(msg) < len(want) || msg[:len(want)] != want {
			t.Errorf("message %q, want it to start %q", msg, want)
		}
	})
	t.Run("CategoryNothingPending", func(t *testing.T) {
		if _, err := s.PublishCategory(ctx, "soups"); err != nil {
			t.Fatal(err)
		}
		assertCode(t, s.Schedule(ctx, "category", "soups", future), recipes.EINVALID,
			`category "soups" and its recipes have no unpublished changes: there is nothing to publish`)
	})
	if got := mustScheduled(t, s); len(got) != 0 {
		t.Errorf("refused schedules were kept: %+v", got)
	}
}

// A publish that cannot happen when it comes due is removed and kept
// among the outcomes with the reason, not dropped silently.
func TestScheduledPublishFailureIsKept(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	seedThreeSoups(t, s)
	editTomato(t, s)
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "salads", Name: "Salads"}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Minute)
	mustSchedule(t, s, recipes.ScheduleRecipe, "tomato", at)
	mustSchedule(t, s, recipes.ScheduleCategory, "salads", at.Add(time.Millisecond))
	if err := s.DiscardRecipe(ctx, "tomato"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveCategory(ctx, "salads", recipes.CategoryRemoval{}); err != nil {
		t.Fatal(err)
	}

	fired := mustPublishDue(t, s, at.Add(time.Second))
	want := map[string]string{
		"tomato": `recipe "tomato" had no unpublished changes left to publish`,
		"salads": `category "salads" not found`,
	}
	got := map[string]string{}
	for _, f := range fired {
		got[f.ID] = f.Outcome.Error
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failures (-want +got):\n%s", diff)
	}
	if got := mustScheduled(t, s); len(got) != 0 {
		t.Errorf("failed publishes still scheduled: %+v", got)
	}
	outs, err := s.ScheduleOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || !outs[0].Outcome.Failed() || !outs[1].Outcome.Failed() {
		t.Errorf("outcomes = %+v, want both failures", outs)
	}
	if fired := mustPublishDue(t, s, at.Add(time.Hour)); len(fired) != 0 {
		t.Errorf("failed again: %+v", fired)
	}
}

func TestScheduleOutcomesAreBounded(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	mustPutCategory(t, s, category("soups", 0))
	at := time.Now().Add(time.Minute)
	n := catalog.ScheduleOutcomesKept + 3
	for i := range n {
		id := fmt.Sprintf("soup-%02d", i)
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Soup "+id)); err != nil {
			t.Fatal(err)
		}
		mustSchedule(t, s, recipes.ScheduleRecipe, id, at)
	}
	if fired := mustPublishDue(t, s, at); len(fired) != n {
		t.Fatalf("fired %d, want %d", len(fired), n)
	}
	outs, err := s.ScheduleOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != catalog.ScheduleOutcomesKept || outs[0].ID != fmt.Sprintf("soup-%02d", n-1) {
		t.Errorf("kept %d outcomes, newest %q; want %d, newest soup-%02d", len(outs), outs[0].ID, catalog.ScheduleOutcomesKept, n-1)
	}
}

// Nodes sharing a store all run the scheduler: each due publish fires on
// exactly one of them, none reports a failure for the others' work, and a
// publish that cannot happen is reported failed once.
func TestScheduledPublishFiresOnceAcrossNodes(t *testing.T) {
	env := newEnv(t)
	nodes := []*catalog.Store{env.Open(t), env.Open(t), env.Open(t)}
	s := nodes[0]
	ctx := context.Background()
	mustPutCategory(t, s, category("soups", 0))
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "salads", Name: "Salads"}); err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Minute)
	const n = 12
	for i := range n {
		id := fmt.Sprintf("soup-%02d", i)
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Soup "+id)); err != nil {
			t.Fatal(err)
		}
		mustSchedule(t, s, recipes.ScheduleRecipe, id, at)
	}
	if _, err := s.CreateRecipe(ctx, recipe("caesar", "salads", "Caesar salad")); err != nil {
		t.Fatal(err)
	}
	mustSchedule(t, s, recipes.ScheduleCategory, "salads", at)
	const gone = 4
	for i := range gone {
		id := fmt.Sprintf("gone-%d", i)
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Soup "+id)); err != nil {
			t.Fatal(err)
		}
		mustSchedule(t, s, recipes.ScheduleRecipe, id, at)
		if err := s.RemoveRecipe(ctx, id); err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for _, node := range nodes {
		for range 2 {
			wg.Go(func() {
				// A round the store was too slow for leaves its entries
				// for the next one, as the runner's next tick would.
				for try := 0; ; try++ {
					fired, err := node.PublishDue(ctx, at)
					mu.Lock()
					for _, f := range fired {
						if f.Outcome.Failed() != strings.HasPrefix(f.ID, "gone-") {
							t.Errorf("%s %s: outcome %+v", f.Kind, f.ID, f.Outcome)
						}
						count[f.ID]++
					}
					mu.Unlock()
					if err == nil {
						return
					}
					if recipes.ErrorCode(err) != recipes.EUNAVAILABLE || try == 4 {
						t.Errorf("PublishDue: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	// A fire whose reply was lost (the store too slow) happened but is
	// reported by no round; the outcomes, written in each fire's own
	// MULTI/EXEC, still count it once.
	if len(count) > n+1+gone {
		t.Errorf("fired %d distinct entries, want %d", len(count), n+1+gone)
	}
	for id, c := range count {
		if c != 1 {
			t.Errorf("%s fired %d times", id, c)
		}
	}
	outs, err := s.ScheduleOutcomes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != n+1+gone {
		t.Errorf("%d outcomes kept, want %d", len(outs), n+1+gone)
	}
	seen := map[string]bool{}
	for _, o := range outs {
		if seen[o.ID] {
			t.Errorf("%s has two outcomes", o.ID)
		}
		seen[o.ID] = true
	}
	if left, err := s.Scheduled(ctx); err != nil || len(left) != 0 {
		t.Errorf("still scheduled: %+v, %v", left, err)
	}
}

// A schedule lives in the store: it fires after a restart, once, even
// when it came due while the server was down.
func TestScheduledPublishSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	at := time.Now().Add(time.Hour)

	s := mustOpenEmbedded(t, dir)
	seedThreeSoups(t, s.Store)
	editTomato(t, s.Store)
	mustSchedule(t, s.Store, recipes.ScheduleRecipe, "tomato", at)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenEmbedded(t, dir)
	if fired := mustPublishDue(t, s.Store, at.Add(time.Hour)); len(fired) != 1 {
		t.Fatalf("after restart fired %+v, want tomato", fired)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenEmbedded(t, dir)
	defer s.Close()
	if fired := mustPublishDue(t, s.Store, at.Add(2*time.Hour)); len(fired) != 0 {
		t.Errorf("fired again after another restart: %+v", fired)
	}
	if got := publishedTitle(t, s.Store, "soups", "tomato"); got != "Tomato soup, roasted" {
		t.Errorf("published %q", got)
	}
}
