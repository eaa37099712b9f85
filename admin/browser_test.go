package admin_test

// The admin UI driven in a real headless Chromium, as an editor would use
// it, down to what the catalog publishes to appliances.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

func TestAdminInBrowser(t *testing.T) {
	b := webtest.MustStartBrowser(t)
	s := MustStartServer(t)
	opened := chromedp.Events(b.Ctx, page.JavascriptDialogOpening) // subscribes now
	dialogs := make(chan string, 1)
	go func() {
		for ev, err := range opened {
			if err != nil {
				return
			}
			dialogs <- ev.Message
		}
	}()

	b.SignIn(s.HTTPURL, identity.FirstAdmin, testAdminPassword)

	// Create a category; the script fills the slug from the name.
	b.Submit(`a[href="/categories/new"]`)
	b.Do(chromedp.SendKeys(chromedp.ID("name"), "Weekend brunch"))
	if got := b.Value("#slug"); got != "weekend-brunch" {
		t.Errorf("slug suggested %q", got)
	}
	b.Do(chromedp.SendKeys(chromedp.ID("description"), "Slow mornings, eggs and pancakes."))
	b.Submit(`form.form button.primary`)
	if got := b.Text("h1"); !strings.HasPrefix(got, "Weekend brunch") {
		t.Fatalf("category page h1 %q", got)
	}
	if got := b.Text(".flash"); !strings.Contains(got, "Category “Weekend brunch” created") {
		t.Errorf("flash %q", got)
	}

	// Add a recipe with a mistake: 200 °C is more than the appliance does.
	b.Submit(`a[href="/categories/weekend-brunch/recipes/new"]`)
	b.Do(chromedp.SendKeys(chromedp.ID("title"), "Shakshuka"))
	b.Fill("#total_minutes", "35")
	b.Fill(`[name="ingredients[0].name"]`, "eggs")
	b.Fill(`[name="ingredients[0].quantity"]`, "6")
	b.Fill(`[name="ingredients[1].name"]`, "tomatoes, chopped")
	b.Fill(`[name="ingredients[1].quantity"]`, "800")
	b.Do(chromedp.SetValue(chromedp.CSS(`[name="ingredients[1].unit"]`), "g"))
	b.Fill(`[name="steps[0].text"]`, "Simmer the tomatoes with the spices.")
	b.Fill(`[name="steps[0].minutes"]`, "15")
	b.Fill(`[name="steps[0].temperature_c"]`, "200")
	b.Fill(`[name="steps[1].text"]`, "Crack in the eggs and cook until set.")
	if st := b.Submit("#save"); st != 422 {
		t.Fatalf("saving the mistake: status %d, want 422", st)
	}
	if got := b.Text(".error-summary"); !strings.Contains(got, "Step 1, temperature: must be between 37 and 160 °C, not 200") {
		t.Errorf("error summary %q", got)
	}
	if got := b.Text(`.step .invalid .field-error`); got != "must be between 37 and 160 °C, not 200" {
		t.Errorf("error next to the temperature: %q", got)
	}
	if got := b.Value(`[name="ingredients[1].name"]`); got != "tomatoes, chopped" {
		t.Errorf("the form forgot an ingredient: %q", got)
	}

	// Fix it and save: a draft, which appliances do not see.
	b.Fill(`[name="steps[0].temperature_c"]`, "110")
	if st := b.Submit("#save"); st != 200 {
		t.Fatalf("save: status %d", st)
	}
	if got := b.Text(".flash"); !strings.Contains(got, "Saved “Shakshuka” as a draft") {
		t.Errorf("flash %q", got)
	}
	if r := s.MustAsk(t, "recipes/weekend-brunch/shakshuka"); r.Status != 404 {
		t.Fatalf("appliance sees a draft: %v", r)
	}

	// Publish, then an appliance fetches it over MQTT.
	b.Submit("#publish")
	if got := b.Text(".flash"); !strings.Contains(got, "Published 1 category and 1 recipe") {
		t.Errorf("flash %q", got)
	}
	first := s.MustAsk(t, "recipes/weekend-brunch/shakshuka")
	got := decodeRecipe(t, first)
	if got.Title != "Shakshuka" || *got.Steps[0].TemperatureC != 110 || got.Ingredients[1].Unit != "g" {
		t.Fatalf("appliance got %+v", got)
	}

	// Edit and publish again: the next request gets the edit, new ETag.
	b.Fill("#title", "Shakshuka with feta")
	b.Submit("#publish")
	second := s.MustAsk(t, "recipes/weekend-brunch/shakshuka")
	if got := decodeRecipe(t, second); got.Title != "Shakshuka with feta" || second.ETag == first.ETag {
		t.Fatalf("after the edit: %q, etag %s (was %s)", got.Title, second.ETag, first.ETag)
	}

	// The category page, as an editor sees it, kept as an artifact.
	b.Submit(`.crumbs a[href="/categories/weekend-brunch"]`)
	if got := b.Text("table.list tbody"); !strings.Contains(got, "Shakshuka with feta") || !strings.Contains(strings.ToLower(got), "published") {
		t.Errorf("recipe list %q", got)
	}
	b.Screenshot("admin-category.png")

	// A hostile name is text everywhere, never a script.
	b.Submit(`a[href="/categories"]`)
	b.Submit(`a[href="/categories/new"]`)
	b.Do(chromedp.SendKeys(chromedp.ID("name"), "<script>alert(1)</script>"), chromedp.SetValue(chromedp.ID("slug"), "xss"))
	b.Submit(`form.form button.primary`)
	if got := b.Text("h1"); !strings.HasPrefix(got, "<script>alert(1)</script>") {
		t.Errorf("h1 %q", got)
	}
	b.Submit(`a[href="/categories"]`)
	b.Screenshot("admin-categories.png")
	select {
	case msg := <-dialogs:
		t.Fatalf("a script ran and opened a dialog: %q", msg)
	default:
	}
}

// decodeRecipe decodes the recipe of a 200 reply.
func decodeRecipe(tb testing.TB, r reply) recipes.Recipe {
	tb.Helper()
	var v recipes.Recipe
	if err := json.Unmarshal(r.Data, &v); err != nil || r.Status != 200 {
		tb.Fatalf("reply %d %s: %v", r.Status, r.Data, err)
	}
	return v
}
