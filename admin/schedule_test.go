package admin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

func (f *fakeStore) Schedule(context.Context, string, string, time.Time) error {
	return f.missing("Schedule")
}
func (f *fakeStore) Unschedule(context.Context, string, string) error { return f.missing("Unschedule") }

// The fake has nothing scheduled, so that the pages that show schedules
// render without each test saying so.
func (f *fakeStore) Scheduled(context.Context) ([]recipes.ScheduledPublish, error) { return nil, nil }
func (f *fakeStore) ScheduleOutcomes(context.Context) ([]recipes.ScheduledPublish, error) {
	return nil, nil
}

// postBack posts form to path, wants the redirect back to a page, and
// returns that page.
func postBack(tb testing.TB, w *webtest.Client, path string, form url.Values) *webtest.Page {
	tb.Helper()
	p := w.Post(path, form).Want(303)
	return w.Get(p.Header.Get("Location")).Want(200)
}

// mustDraft saves a draft of the demo's tomato soup with a new title.
func mustDraft(tb testing.TB, s *testServer) {
	tb.Helper()
	ctx := context.Background()
	r, _, err := s.Store.EditorRecipe(ctx, "tomato-soup")
	if err != nil {
		tb.Fatal(err)
	}
	r.Title = "Tomato soup, roasted"
	if _, err := s.Store.SaveRecipe(ctx, r); err != nil {
		tb.Fatal(err)
	}
}

func TestSchedulePages(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	mustDraft(t, s)
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Minute)

	p := w.Get("/recipes/tomato-soup").Want(200)
	for _, id := range []string{`id="schedule-card"`, `id="schedule-at"`, `id="schedule-at-utc"`, `(UTC)`} {
		if !strings.Contains(p.Body, id) {
			t.Fatalf("recipe page lacks %s", id)
		}
	}

	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct{ name, at, atUTC, id, flash string }{
			{"Malformed", "tomorrow", "", "tomato-soup", `at: "tomorrow" is not a date and time like 2030-01-31T09:30`},
			{"MalformedUTC", "", "2030-13-01", "tomato-soup", `at: "2030-13-01" is not an RFC 3339 time`},
			{"Missing", "", "", "tomato-soup", "at: pick a date and time to publish at"},
			{"Past", "2020-01-02T03:04", "", "tomato-soup", "at: 2020-01-02T03:04:00Z is not in the future"},
			{"NothingToPublish", at.Format("2006-01-02T15:04"), "", "butternut-squash-soup",
				`recipe "butternut-squash-soup" has no unpublished changes: there is nothing to publish`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := postBack(t, w, "/recipes/"+tt.id+"/schedule", url.Values{"at": {tt.at}, "at_utc": {tt.atUTC}})
				if got := p.Flash(); !strings.Contains(got, tt.flash) {
					t.Errorf("flash %q, want %q", got, tt.flash)
				}
			})
		}
		w.Post("/recipes/nope/schedule", url.Values{"at": {at.Format("2006-01-02T15:04")}}).Want(404)
	})

	t.Run("OK", func(t *testing.T) {
		// Without JavaScript the time typed is UTC.
		p := postBack(t, w, "/recipes/tomato-soup/schedule", url.Values{"at": {at.Format("2006-01-02T15:04")}})
		if got, want := p.Flash(), "Scheduled: appliances will see the changes at "+at.Format("2006-01-02 15:04 UTC")+"."; got != want {
			t.Fatalf("flash %q, want %q", got, want)
		}
		p.Has(t, "will be published at "+at.Format("2006-01-02 15:04 UTC"), "as scheduled by admin")
		// With it, at_utc carries the time picked in the browser's zone.
		later := at.Add(90 * time.Minute)
		postBack(t, w, "/recipes/tomato-soup/schedule", url.Values{"at": {"2000-01-01T00:00"}, "at_utc": {later.Format(time.RFC3339)}}).
			Has(t, "will be published at "+later.Format("2006-01-02 15:04 UTC"))

		list := w.Get("/scheduled").Want(200).Has(t, "Recipe tomato-soup", later.Format("2006-01-02 15:04 UTC"), "No scheduled publish has fired yet.")
		if !strings.Contains(list.Body, `id="scheduled-cancel-recipe-tomato-soup"`) {
			t.Fatal("no cancel button")
		}
		if !strings.Contains(w.Get("/categories").Want(200).Body, `href="/scheduled"`) {
			t.Error("the categories page does not link to /scheduled")
		}
		postBack(t, w, "/scheduled/cancel", url.Values{"kind": {"recipe"}, "id": {"tomato-soup"}}).
			Has(t, "Scheduled publish cancelled.", "Nothing is scheduled.")
		postBack(t, w, "/scheduled/cancel", url.Values{"kind": {"recipe"}, "id": {"tomato-soup"}}).
			Has(t, `no publish of recipe "tomato-soup" is scheduled`)
		postBack(t, w, "/scheduled/cancel", url.Values{"kind": {"oven"}, "id": {"x"}}).Has(t, `kind "oven": must be`)
	})

	t.Run("Category", func(t *testing.T) {
		postBack(t, w, "/categories/soups/schedule", url.Values{"at": {at.Format("2006-01-02T15:04")}}).
			Has(t, "This category and its recipes' changes will be published at")
		postBack(t, w, "/categories/soups/schedule/cancel", nil).Has(t, "Scheduled publish cancelled.")
		postBack(t, w, "/categories/breads/schedule", url.Values{"at": {at.Format("2006-01-02T15:04")}}).
			Has(t, `category "breads" and its recipes have no unpublished changes`)
	})

	t.Run("FailureShown", func(t *testing.T) {
		postBack(t, w, "/recipes/tomato-soup/schedule", url.Values{"at": {at.Format("2006-01-02T15:04")}})
		if err := s.Store.DiscardRecipe(context.Background(), "tomato-soup"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Store.PublishDue(context.Background(), at); err != nil {
			t.Fatal(err)
		}
		why := `recipe "tomato-soup" had no unpublished changes left to publish`
		list := w.Get("/scheduled").Want(200).Has(t, "Nothing is scheduled.", "Failed "+why)
		if !strings.Contains(list.Body, `id="outcome-recipe-tomato-soup" class="failed"`) {
			t.Error("the outcome row is not marked failed")
		}
		p := w.Get("/recipes/tomato-soup").Want(200).Has(t, "failed: "+why, "Nothing to schedule")
		if !strings.Contains(p.Body, `id="schedule-last-failed"`) {
			t.Error("no schedule-last-failed")
		}
	})
}

func TestScheduleAPI(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "robot", recipes.ScopeCatalog)}
	mustDraft(t, s)
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)

	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name, path string
			body       any
			status     int
			msg        string
		}{
			{"Malformed", "/api/recipes/tomato-soup/schedule", map[string]string{"at": "soon"}, 400, `at: "soon" is not an RFC 3339 time like 2030-01-31T09:30:00Z`},
			{"Missing", "/api/recipes/tomato-soup/schedule", map[string]string{}, 400, "at: required, an RFC 3339 time like 2030-01-31T09:30:00Z"},
			{"UnknownField", "/api/recipes/tomato-soup/schedule", map[string]string{"when": at.Format(time.RFC3339)}, 400, ""},
			{"Past", "/api/recipes/tomato-soup/schedule", map[string]string{"at": "2020-01-02T03:04:05+01:00"}, 400, "at: 2020-01-02T02:04:05Z is not in the future"},
			{"NothingToPublish", "/api/categories/breads/schedule", map[string]string{"at": at.Format(time.RFC3339)}, 400, `category "breads" and its recipes have no unpublished changes: there is nothing to publish`},
			{"NoSuchRecipe", "/api/recipes/nope/schedule", map[string]string{"at": at.Format(time.RFC3339)}, 404, `recipe "nope" not found`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := webtest.DecodeJSON[webtest.APIError](t, api.Call("POST", tt.path, tt.body).Want(tt.status))
				if !strings.Contains(e.Error.Message, tt.msg) {
					t.Errorf("message %q, want %q", e.Error.Message, tt.msg)
				}
			})
		}
	})

	t.Run("OK", func(t *testing.T) {
		got := webtest.DecodeJSON[recipes.ScheduledPublish](t, api.Call("POST", "/api/recipes/tomato-soup/schedule",
			map[string]string{"at": at.Format(time.RFC3339)}).Want(200))
		if got.Kind != "recipe" || got.ID != "tomato-soup" || !got.At.Equal(at) || got.By.Kind != recipes.ActorToken || got.By.Name != "robot" {
			t.Fatalf("scheduled %+v", got)
		}
		api.Call("POST", "/api/categories/soups/schedule", map[string]string{"at": at.Add(time.Hour).Format(time.RFC3339)}).Want(200)
		l := webtest.DecodeJSON[struct {
			Items    []recipes.ScheduledPublish `json:"items"`
			Outcomes []recipes.ScheduledPublish `json:"outcomes"`
		}](t, api.Call("GET", "/api/scheduled", nil).Want(200))
		if len(l.Items) != 2 || l.Items[0].ID != "tomato-soup" || l.Items[1].ID != "soups" || l.Outcomes == nil {
			t.Fatalf("list %+v", l)
		}
		api.Call("DELETE", "/api/recipes/tomato-soup/schedule", nil).Want(204)
		api.Call("DELETE", "/api/recipes/tomato-soup/schedule", nil).Want(404)
		api.Call("DELETE", "/api/categories/soups/schedule", nil).Want(204)
	})
}
