package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

var (
	alice = recipes.Actor{Kind: recipes.ActorStaff, Name: "alice"}
	bot   = recipes.Actor{Kind: recipes.ActorToken, Name: "importer"}
	cli   = recipes.Actor{Kind: recipes.ActorCLI, Name: "ops"}
)

func revisions(tb testing.TB, s *catalog.Store, kind, id string) []recipes.Revision {
	tb.Helper()
	revs, err := s.Revisions(context.Background(), kind, id)
	if err != nil {
		tb.Fatalf("Revisions(%s %s): %v", kind, id, err)
	}
	return revs
}

// summary is what a test compares of a history: n, action, actor, changed.
func summary(revs []recipes.Revision) []string {
	var out []string
	for _, r := range revs {
		out = append(out, fmt.Sprintf("%d %s %s %v", r.N, r.Action, r.Actor, r.Changed))
	}
	return out
}

// Every write of a recipe records exactly one revision, by the actor in
// its context, with the editors' copy after it.
func TestRevisions_OneForEachWrite(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	as := func(a recipes.Actor) context.Context { return recipes.WithActor(ctx, a) }
	if _, err := s.CreateCategory(as(alice), recipes.Category{Slug: "soups", Name: "Soups"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(as(alice), recipes.Category{Slug: "stews", Name: "Stews"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublishCategory(as(alice), "stews"); err != nil {
		t.Fatal(err)
	}
	r := recipe("tomato", "soups", "Tomato soup")
	steps := []struct {
		name  string
		write func() error
		want  string // the newest revision's summary
	}{
		{"create", func() error { _, err := s.CreateRecipe(as(alice), r); return err }, "1 created staff:alice []"},
		{"publish", func() error { _, err := s.PublishRecipe(as(bot), "tomato"); return err }, "2 published token:importer []"},
		{"save", func() error {
			r.Title, r.Servings = "Tomato soup, roasted", 4
			_, err := s.SaveRecipe(as(alice), r)
			return err
		}, "3 saved staff:alice [servings title]"},
		{"discard", func() error { return s.DiscardRecipe(as(alice), "tomato") }, "4 discarded staff:alice [servings title]"},
		{"move", func() error { return s.MoveRecipe(as(cli), "tomato", "stews") }, "5 moved cli:ops [category]"},
		{"restore", func() error { _, err := s.RestoreRecipe(as(alice), "tomato", 3); return err }, "6 restored staff:alice [servings title]"},
		{"delete", func() error { return s.RemoveRecipe(as(bot), "tomato") }, "7 deleted token:importer []"},
	}
	for i, st := range steps {
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		revs := revisions(t, s, recipes.RevisionRecipe, "tomato")
		if len(revs) != i+1 {
			t.Fatalf("after %s: %d revisions, want %d: %v", st.name, len(revs), i+1, summary(revs))
		}
		if got := summary(revs[:1])[0]; got != st.want {
			t.Errorf("after %s: newest revision %q, want %q", st.name, got, st.want)
		}
		if revs[0].Recipe == nil || revs[0].Recipe.ID != "tomato" || revs[0].Time.IsZero() {
			t.Errorf("after %s: revision without its snapshot or time: %+v", st.name, revs[0])
		}
	}
	revs := revisions(t, s, recipes.RevisionRecipe, "tomato")
	if got := revs[0].Recipe; got.Category != "stews" || got.Title != "Tomato soup, roasted" {
		t.Errorf("deleted revision's snapshot = %+v, want the restored copy in stews", got)
	}
	if revs[1].From != 3 {
		t.Errorf("restored revision From = %d, want 3", revs[1].From)
	}
	if cats := summary(revisions(t, s, recipes.RevisionCategory, "soups")); !slices.Equal(cats, []string{"2 published token:importer []", "1 created staff:alice []"}) {
		t.Errorf("category revisions = %q", cats)
	}
}

// A write that fails records nothing.
func TestRevisions_FailedWriteRecordsNothing(t *testing.T) {
	s := MustOpenStore(t)
	ctx := recipes.WithActor(context.Background(), alice)
	seedThreeSoups(t, s)
	mustPutCategory(t, s, category("stews", 1))
	before := len(revisions(t, s, recipes.RevisionRecipe, "tomato"))

	moved := recipe("tomato", "stews", "Tomato soup")
	if _, err := s.SaveRecipe(ctx, moved); err == nil {
		t.Fatal("saving into another category: no error")
	}
	bad := recipe("tomato", "soups", "")
	if _, err := s.SaveRecipe(ctx, bad); err == nil {
		t.Fatal("saving without a title: no error")
	}
	if _, err := s.RestoreRecipe(ctx, "tomato", 99); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("restoring a revision that does not exist: %v, want ENOTFOUND", err)
	}
	if _, err := s.CreateRecipe(ctx, recipe("tomato", "soups", "Again")); err == nil {
		t.Fatal("creating a taken id: no error")
	}
	if got := revisions(t, s, recipes.RevisionRecipe, "tomato"); len(got) != before {
		t.Errorf("failed writes left revisions: %v", summary(got))
	}
	// A save that changes nothing records nothing either.
	r := recipe("leek", "soups", "Leek soup, green")
	for range 2 {
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if got := revisions(t, s, recipes.RevisionRecipe, "leek"); len(got) != 1 {
		t.Errorf("two equal saves: %v, want one revision", summary(got))
	}
}

// Edit, edit, restore #1: the draft is #1's snapshot; published, the
// appliances get it.
func TestRestoreRecipe_RoundTrip(t *testing.T) {
	s := MustOpenStore(t)
	ctx := recipes.WithActor(context.Background(), alice)
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "soups", Name: "Soups"}); err != nil {
		t.Fatal(err)
	}
	first := recipe("tomato", "soups", "Tomato soup")
	first.Translations = map[string]recipes.RecipeText{"de": {Title: "Tomatensuppe"}}
	if _, err := s.CreateRecipe(ctx, first); err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{"Tomato soup II", "Tomato soup III"} {
		r := first
		r.Title, r.Translations = title, nil
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	one, err := s.Revision(ctx, recipes.RevisionRecipe, "tomato", 1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.RestoreRecipe(ctx, "tomato", 1)
	if err != nil {
		t.Fatal(err)
	}
	draft, _, err := s.EditorRecipe(ctx, "tomato")
	if err != nil {
		t.Fatal(err)
	}
	ignoreTime := func(r recipes.Recipe) recipes.Recipe { r.UpdatedAt = time.Time{}; return r }
	if diff := cmp.Diff(ignoreTime(*one.Recipe), ignoreTime(draft)); diff != "" {
		t.Errorf("draft after restoring #1 differs from #1 (-#1 +draft):\n%s", diff)
	}
	if diff := cmp.Diff(ignoreTime(draft), ignoreTime(got)); diff != "" {
		t.Errorf("RestoreRecipe returned another copy than it saved:\n%s", diff)
	}
	revs := revisions(t, s, recipes.RevisionRecipe, "tomato")
	if want := "4 restored staff:alice [title translations.de]"; summary(revs)[0] != want {
		t.Errorf("newest revision %q, want %q", summary(revs)[0], want)
	}
	if _, err := s.PublishRecipe(ctx, "tomato"); err != nil {
		t.Fatal(err)
	}
	doc := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "tomato"})
	if r := decode[recipes.Recipe](t, doc); r.Title != "Tomato soup" {
		t.Errorf("appliances get %q, want the restored title", r.Title)
	}

	// Deleted, it comes back as an unpublished draft in its category...
	if err := s.RemoveRecipe(ctx, "tomato"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RestoreRecipe(ctx, "tomato", 2); err != nil {
		t.Fatalf("restoring a deleted recipe: %v", err)
	}
	if st := statuses(t, s, "soups")["tomato"]; st != recipes.Unpublished {
		t.Errorf("restored deleted recipe has status %q, want %q", st, recipes.Unpublished)
	}
	if findErr(s, recipes.Query{Category: "soups", RecipeID: "tomato"}) != recipes.ENOTFOUND {
		t.Error("a restored deleted recipe is visible to appliances before it is published")
	}
	// ...unless its category is gone too.
	if _, err := s.RemoveCategory(ctx, "soups", recipes.CategoryRemoval{DeleteRecipes: true}); err != nil {
		t.Fatal(err)
	}
	_, err = s.RestoreRecipe(ctx, "tomato", 2)
	assertCode(t, err, recipes.EINVALID, `invalid recipe "tomato": category revision 2 was in category "soups", which no longer exists; create it (or restore it), then restore the recipe again`)
}

// Each item keeps RevisionsKept revisions, numbered on; deleted items'
// histories are kept until DeletedHistories more are deleted.
func TestRevisions_Retention(t *testing.T) {
	env := newEnv(t)
	s := mustOpen(t, env.URL, catalog.Options{KeyPrefix: env.Prefix, RevisionsKept: 3, DeletedHistories: 2})
	ctx := context.Background()
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "soups", Name: "Soups"}); err != nil {
		t.Fatal(err)
	}
	r := recipe("tomato", "soups", "Tomato soup")
	if _, err := s.CreateRecipe(ctx, r); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		r.Servings = i + 5
		if _, err := s.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var ns []int64
	for _, rev := range revisions(t, s, recipes.RevisionRecipe, "tomato") {
		ns = append(ns, rev.N)
	}
	if !slices.Equal(ns, []int64{6, 5, 4}) {
		t.Errorf("kept revisions %v, want [6 5 4]", ns)
	}
	_, err := s.Revision(ctx, recipes.RevisionRecipe, "tomato", 1)
	assertCode(t, err, recipes.ENOTFOUND, `recipe "tomato" has no revision 1: revisions 4 to 6 are kept`)

	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Soup "+id)); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRecipe(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Revisions(ctx, recipes.RevisionRecipe, "a"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Errorf("the oldest of three deleted histories with room for two: %v, want ENOTFOUND", err)
	}
	for _, id := range []string{"b", "c"} {
		if got := revisions(t, s, recipes.RevisionRecipe, id); len(got) != 2 {
			t.Errorf("deleted %s keeps %v, want created and deleted", id, summary(got))
		}
	}
	// Created again, an item leaves the deleted ones and numbers on.
	if _, err := s.CreateRecipe(ctx, recipe("b", "soups", "Soup b")); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d", "e"} {
		if _, err := s.CreateRecipe(ctx, recipe(id, "soups", "Soup "+id)); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveRecipe(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if got := summary(revisions(t, s, recipes.RevisionRecipe, "b")); len(got) != 3 || got[0] != "3 created system: []" {
		t.Errorf("re-created b after more deletions: %v, want its history kept, numbered on", got)
	}
	if _, err := s.Revisions(ctx, recipes.RevisionRecipe, "c"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Errorf("c should have been dropped for d and e: %v", err)
	}
}

// A seed records one revision per item it adds or changes, as its actor,
// and one per item it prunes.
func TestRevisions_Sync(t *testing.T) {
	s := MustOpenStore(t)
	ctx := recipes.WithActor(context.Background(), cli)
	cats := []recipes.Category{category("soups", 0)}
	recs := []recipes.Recipe{recipe("tomato", "soups", "Tomato soup"), recipe("leek", "soups", "Leek soup")}
	if _, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	recs[0].Title = "Tomato soup, roasted"
	if _, err := s.Sync(ctx, cats, recs[:1], catalog.SyncOptions{Prune: true}); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{
		"tomato": {"2 seeded cli:ops [title]", "1 seeded cli:ops []"},
		"leek":   {"2 deleted cli:ops []", "1 seeded cli:ops []"},
	} {
		if got := summary(revisions(t, s, recipes.RevisionRecipe, id)); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	if got := revisions(t, s, recipes.RevisionRecipe, "tomato")[0].Recipe; got == nil || got.Title != "Tomato soup, roasted" || got.UpdatedAt.IsZero() {
		t.Errorf("seeded snapshot = %+v, want the stamped recipe", got)
	}
	if got := summary(revisions(t, s, recipes.RevisionCategory, "soups")); !slices.Equal(got, []string{"1 seeded cli:ops []"}) {
		t.Errorf("soups: %q", got)
	}
	// As drafts too.
	recs[0].Title = "Tomato soup, smoked"
	if _, err := s.Sync(ctx, cats, recs[:1], catalog.SyncOptions{Drafts: true}); err != nil {
		t.Fatal(err)
	}
	if got := revisions(t, s, recipes.RevisionRecipe, "tomato"); got[0].N != 3 || got[0].Recipe.Title != "Tomato soup, smoked" {
		t.Errorf("draft seed: %v", summary(got))
	}
}

// A revision holding a translation to a language the catalog no longer
// has is not restored behind the language check a save makes.
func TestRestoreRecipe_RefusesUndeclaredLanguage(t *testing.T) {
	s := MustOpenStore(t)
	ctx := recipes.WithActor(context.Background(), alice)
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCategory(ctx, recipes.Category{Slug: "soups", Name: "Soups"}); err != nil {
		t.Fatal(err)
	}
	r := recipe("tomato", "soups", "Tomato soup")
	r.Translations = map[string]recipes.RecipeText{"de": {Title: "Tomatensuppe"}}
	if _, err := s.CreateRecipe(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Translations = nil
	if _, err := s.SaveRecipe(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"fr"}}); err != nil {
		t.Fatal(err)
	}
	_, err := s.RestoreRecipe(ctx, "tomato", 1)
	if err == nil || !strings.Contains(err.Error(), `translations.de "de" is not one of the catalog's languages`) {
		t.Fatalf("RestoreRecipe(#1 with de) = %v; want the language refused", err)
	}
	got, _, err := s.EditorRecipe(ctx, "tomato")
	if err != nil || got.Translations != nil {
		t.Fatalf("after the refused restore: %+v, %v; want the draft unchanged", got.Translations, err)
	}
}
