package admin_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
)

// TestTranslationInBrowser declares a language, sees a recipe's marker
// say it is missing, translates the recipe side by side and sees the
// marker turn to translated, in a real headless Chromium.
func TestTranslationInBrowser(t *testing.T) {
	b := webtest.MustStartBrowser(t)
	s := MustStartServer(t)
	b.SignIn(s.HTTPURL, identity.FirstAdmin, testAdminPassword)
	className := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string]("(document.querySelector('"+sel+"') || {className: '(none)'}).className"))
		if err != nil {
			t.Fatalf("class of %s: %v", sel, err)
		}
		return v
	}

	// Declare German; the tag as typed is refused with its canonical form
	// filled in, one click from adding it.
	b.Do(chromedp.Navigate(s.HTTPURL + "/languages"))
	b.Fill("#tag", "de-at")
	if st := b.Submit("#add-language"); st != 422 {
		t.Fatalf("adding de-at: status %d, want 422", st)
	}
	if got := b.Text("#tag-error"); !strings.Contains(got, `as "de-AT"`) {
		t.Errorf("error next to the tag: %q", got)
	}
	if got := b.Value("#tag"); got != "de-AT" {
		t.Errorf("the field offers %q, want de-AT", got)
	}
	b.Fill("#tag", "de")
	if st := b.Submit("#add-language"); st != 200 {
		t.Fatalf("adding de: status %d", st)
	}
	if got := b.Text("#language-de"); !strings.Contains(got, "missing") {
		t.Errorf("the language row shows no missing count: %q", got)
	}

	// The recipe page marks German missing.
	b.Do(chromedp.Navigate(s.HTTPURL + "/recipes/tomato-soup"))
	if got := className("#translation-de"); !strings.Contains(got, "missing") {
		t.Fatalf("marker class %q, want missing", got)
	}
	b.Submit(`#translations a.button[href$="/translations/de"]`)
	if got := b.Text(".default-text"); got == "" {
		t.Error("the default text is not shown beside the inputs")
	}
	// An empty title is refused next to the field.
	if st := b.Submit("#save-translation"); st != 422 {
		t.Fatalf("saving an empty title: status %d, want 422", st)
	}
	if got := b.Text("#title-error"); got != "is required" {
		t.Errorf("error next to the title: %q", got)
	}
	b.Screenshot("translation-form.png")
	b.Fill("#title", "Tomatensuppe")
	if st := b.Submit("#save-translation"); st != 200 {
		t.Fatalf("saving the translation: status %d", st)
	}
	if got := b.Text(".flash"); !strings.Contains(got, "Saved the de translation") {
		t.Errorf("flash %q", got)
	}
	if got := className("#translation-de"); strings.Contains(got, "missing") || !strings.Contains(got, "translated") {
		t.Errorf("marker class after translating %q, want translated", got)
	}
	b.Screenshot("translation-done.png")
}
