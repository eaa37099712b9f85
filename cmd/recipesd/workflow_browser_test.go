package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// TestEditorsWorkflowInBrowser walks an editor's day through a real
// headless Chromium on the real server: translate a recipe and see its
// missing-translation marker go, preview it as a German appliance sees it,
// schedule its publish, and find that in the audit log.
func TestEditorsWorkflowInBrowser(t *testing.T) {
	b := webtest.MustStartBrowser(t)
	s := MustRunMain(t)
	ctx := testContext(t, 30*time.Second)
	if err := s.Store.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de"}}); err != nil {
		t.Fatal(err)
	}
	id := demoRecipes[0]
	b.SignIn(s.HTTPURL, identity.FirstAdmin, testAdminPassword)
	className := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string]("(document.querySelector('"+sel+"') || {className: '(none)'}).className"))
		if err != nil {
			t.Fatalf("class of %s: %v", sel, err)
		}
		return v
	}

	// Translate: the marker says missing, then translated.
	b.Do(chromedp.Navigate(s.HTTPURL + "/recipes/" + id))
	if got := className("#translation-de"); !strings.Contains(got, "missing") {
		t.Fatalf("marker class %q, want missing", got)
	}
	b.Submit(`#translations a.button[href$="/translations/de"]`)
	b.Fill("#title", "Karottenpüree")
	if st := b.Submit("#save-translation"); st != 200 {
		t.Fatalf("saving the translation: status %d", st)
	}
	b.Do(chromedp.Navigate(s.HTTPURL + "/recipes/" + id))
	if got := className("#translation-de"); strings.Contains(got, "missing") {
		t.Errorf("marker class after translating %q, want it gone", got)
	}

	// Preview as a German CM-200: the draft carries the translation, the
	// published version does not yet.
	b.Do(chromedp.SetValue(chromedp.CSS("#preview_model"), "CM-200"), chromedp.SetValue(chromedp.CSS("#preview_lang"), "de"))
	if st := b.Submit("#preview-show"); st != 200 {
		t.Fatalf("preview: status %d", st)
	}
	if got := b.Text("#preview-draft-json"); !strings.Contains(got, "Karottenpüree") || !strings.Contains(got, `"language": "de"`) {
		t.Errorf("draft preview %q", webtest.Excerpt(got))
	}
	if got := b.Text("#preview-published-json"); strings.Contains(got, "Karottenpüree") {
		t.Errorf("published preview shows the unpublished translation: %q", webtest.Excerpt(got))
	}
	if got := b.Text("#preview-draft-size"); !strings.Contains(got, "bytes") {
		t.Errorf("draft preview size %q", got)
	}
	b.Screenshot("workflow-preview.png")

	// Schedule the publish an hour from now.
	at := time.Now().Add(time.Hour).Truncate(time.Minute)
	b.Do(chromedp.SetValue(chromedp.CSS("#schedule-at"), at.Format("2006-01-02T15:04")))
	if st := b.Submit("#schedule-submit"); st != 200 {
		t.Fatalf("schedule: status %d", st)
	}
	if got := b.Text("#schedule-entry"); got == "" {
		t.Error("the recipe page shows nothing scheduled")
	}
	sched, err := s.Store.Scheduled(ctx)
	if err != nil || len(sched) != 1 || sched[0].ID != id || !sched[0].At.Equal(at) || sched[0].By.Name != identity.FirstAdmin {
		t.Fatalf("scheduled %+v, %v; want %s at %s by %s", sched, err, id, at, identity.FirstAdmin)
	}

	// The audit log has the schedule, by this admin.
	b.Do(chromedp.Navigate(s.HTTPURL + "/audit"))
	b.Fill("#target", id)
	b.Submit(`form[action="/audit"] button.primary`)
	log := b.Text("#audit-entries")
	if !strings.Contains(log, "/recipes/:id/schedule") || !strings.Contains(log, identity.FirstAdmin) {
		t.Errorf("audit log %q, want the schedule by %s", webtest.Excerpt(log), identity.FirstAdmin)
	}
	if strings.Count(log, "/recipes/:id/schedule") != 1 {
		t.Errorf("audit log has the schedule %d times: %q", strings.Count(log, "/recipes/:id/schedule"), webtest.Excerpt(log))
	}
	b.Screenshot("workflow-audit.png")
}
