package admin_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// newest returns the newest revision of recipe id and how many are kept.
func newest(tb testing.TB, s *testServer, id string) (recipes.Revision, int) {
	tb.Helper()
	revs, err := s.Store.Revisions(context.Background(), recipes.RevisionRecipe, id)
	if err != nil || len(revs) == 0 {
		tb.Fatalf("Revisions(%s) = %d, %v", id, len(revs), err)
	}
	return revs[0], len(revs)
}

// Each save, publish and restore in the UI writes exactly one revision,
// as the signed-in staff member; the history card, history page and diff
// page show them; restoring #1 brings #1 back as the draft, and once
// published the appliances get it.
func TestAdminRecipeHistory(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	staff := recipes.Actor{Kind: recipes.ActorStaff, Name: identity.FirstAdmin}
	count := 0
	step := func(name, action string, do func()) {
		t.Helper()
		do()
		rev, n := newest(t, s, "nettle-soup")
		if n != count+1 || rev.Action != action || rev.Actor != staff {
			t.Fatalf("%s: %d revisions, newest %s by %v; want %d, %s by %v", name, n, rev.Action, rev.Actor, count+1, action, staff)
		}
		count = n
	}
	step("create", recipes.RevCreated, func() {
		w.Post("/categories/soups/recipes/new", recipeForm("", "Nettle soup")).Want(303)
	})
	step("publish", recipes.RevPublished, func() { w.Post("/recipes/nettle-soup/publish", nil).Want(303) })
	step("save", recipes.RevSaved, func() {
		w.Post("/recipes/nettle-soup", recipeForm("", "Nettle soup II", set("servings", "6"))).Want(303)
	})
	step("publish again", recipes.RevPublished, func() { w.Post("/recipes/nettle-soup/publish", nil).Want(303) })
	step("save again", recipes.RevSaved, func() {
		w.Post("/recipes/nettle-soup", recipeForm("", "Nettle soup III", set("steps[1].text", "Season well."))).Want(303)
	})

	card := w.Get("/recipes/nettle-soup").Want(200).Has(t, "History", "#5 saved by admin", "servings, steps, title", "#1 created by admin")
	hasHTML(t, card, `id="history-rev-5"`, `<a id="history-diff-5" href="/recipes/nettle-soup/diff?from=4&amp;to=5">`, `id="history-all"`)
	hist := w.Get("/recipes/nettle-soup/history").Want(200).Has(t, "History of “Nettle soup III”", "created")
	hasHTML(t, hist, `id="rev-1"`, `id="restore-1"`, `id="diff-from"`)
	diff := w.Get("/recipes/nettle-soup/diff?from=2&to=5").Want(200).Has(t, "Nettle soup", "Nettle soup III", "− Season.", "+ Season well.")
	hasHTML(t, diff, `id="diff-field-title"`, `id="diff-field-steps"`)
	w.Get("/recipes/nettle-soup/diff?from=x&to=4").Want(400).Has(t, `from must be a revision number (1 or more), not "x"`)
	w.Get("/recipes/nettle-soup/diff?from=1&to=40").Want(404).Has(t, "has no revision 40: revisions 1 to 5 are kept")

	one, err := s.Store.Revision(context.Background(), recipes.RevisionRecipe, "nettle-soup", 1)
	if err != nil {
		t.Fatal(err)
	}
	step("restore", recipes.RevRestored, func() {
		w.Post("/recipes/nettle-soup/restore", url.Values{"n": {"1"}}).Want(303)
	})
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Restored revision #1 of “Nettle soup” as the draft.", "restored from #1")
	draft, _, err := s.Store.EditorRecipe(context.Background(), "nettle-soup")
	if err != nil {
		t.Fatal(err)
	}
	draft.UpdatedAt, one.Recipe.UpdatedAt = time.Time{}, time.Time{}
	if diff := cmp.Diff(*one.Recipe, draft); diff != "" {
		t.Errorf("draft after restoring #1 (-#1 +draft):\n%s", diff)
	}
	step("publish the restored", recipes.RevPublished, func() { w.Post("/recipes/nettle-soup/publish", nil).Want(303) })
	if r := s.MustAsk(t, "recipes/soups/nettle-soup"); r.Status != 200 || !containsTitle(r.Data, "Nettle soup") {
		t.Errorf("appliances get %v after publishing the restored revision", r)
	}

	w.Post("/recipes/nettle-soup/restore", url.Values{"n": {"0"}}).Want(303)
	w.Get("/recipes/nettle-soup/history").Want(200).Has(t, `n must be a revision number (1 or more), not "0"`)
	if _, n := newest(t, s, "nettle-soup"); n != count {
		t.Errorf("a refused restore wrote a revision: %d, want %d", n, count)
	}

	// Deleted, its history stays and it can come back.
	w.Post("/recipes/nettle-soup/delete", nil).Want(303)
	hasHTML(t, w.Get("/recipes/nettle-soup/history").Want(200).Has(t, "This recipe is deleted."), `id="restore-8"`)
	w.Post("/recipes/nettle-soup/restore", url.Values{"n": {"8"}}).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Restored revision #8")
}

func containsTitle(data []byte, title string) bool {
	return strings.Contains(string(data), fmt.Sprintf(`"title":%q`, title))
}

// hasHTML checks the page's markup, for the element ids a browser test
// relies on.
func hasHTML(tb testing.TB, p *webtest.Page, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			tb.Errorf("page lacks %s", w)
		}
	}
}

// A save through the API is recorded as the token's; the API lists the
// revisions and returns one with its snapshot.
func TestAPIRecipeRevisions(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "importer", recipes.ScopeCatalog)}
	r := testRecipe("api-soup", "soups", "API soup")
	api.Call("POST", "/api/recipes", r).Want(201)
	r.Title = "API soup, better"
	api.Call("PUT", "/api/recipes/api-soup", r).Want(200)

	type list struct {
		Revisions []struct {
			N       int64         `json:"n"`
			Actor   recipes.Actor `json:"actor"`
			Action  string        `json:"action"`
			Changed []string      `json:"changed"`
			Recipe  any           `json:"recipe"`
		} `json:"revisions"`
	}
	got := webtest.DecodeJSON[list](t, api.Call("GET", "/api/recipes/api-soup/revisions", nil).Want(200))
	token := recipes.Actor{Kind: recipes.ActorToken, Name: "importer"}
	if len(got.Revisions) != 2 || got.Revisions[0].N != 2 || got.Revisions[0].Actor != token ||
		got.Revisions[0].Action != recipes.RevSaved || !cmp.Equal(got.Revisions[0].Changed, []string{"title"}) ||
		got.Revisions[1].Changed == nil || got.Revisions[0].Recipe != nil {
		t.Errorf("revisions = %+v", got)
	}
	one := webtest.DecodeJSON[recipes.Revision](t, api.Call("GET", "/api/recipes/api-soup/revisions/1", nil).Want(200))
	if one.N != 1 || one.Action != recipes.RevCreated || one.Recipe == nil || one.Recipe.Title != "API soup" {
		t.Errorf("revision 1 = %+v", one)
	}
	api.Call("GET", "/api/recipes/api-soup/revisions/9", nil).Want(404).Has(t, `recipe \"api-soup\" has no revision 9: revisions 1 to 2 are kept`)
	api.Call("GET", "/api/recipes/api-soup/revisions/first", nil).Want(400).Has(t, `n must be a revision number (1 or more), not \"first\"`)
	api.Call("GET", "/api/recipes/nope/revisions", nil).Want(404).Has(t, `recipe \"nope\" not found, nor any revision of it`)
}
