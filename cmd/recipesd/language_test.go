package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
)

// TestLanguagesOverMQTT: a device registered as de-AT gets German where a
// German translation exists and the default language elsewhere, over MQTT,
// and each reply says which language it carries.
func TestLanguagesOverMQTT(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	s := MustRunMain(t)
	if err := s.Store.SetLanguages(ctx, recipes.Languages{Default: "en", Others: []string{"de", "fr"}}); err != nil {
		t.Fatal(err)
	}
	german, english := demoRecipes[0], demoRecipes[1]
	r, _, err := s.Store.EditorRecipe(ctx, german)
	if err != nil {
		t.Fatal(err)
	}
	cat := r.Category
	steps := make([]string, len(r.Steps))
	for i := range steps {
		steps[i] = "Schritt " + string(rune('A'+i))
	}
	r.Translations = map[string]recipes.RecipeText{"de": {Title: "Karottenpüree", Summary: "Weich und süß.", Steps: steps}}
	if _, err := s.Store.SaveRecipe(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.SetCategoryTranslation(ctx, cat, "de", &recipes.CategoryText{Name: "Breie"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.PublishCategory(ctx, cat); err != nil {
		t.Fatal(err)
	}

	secret, err := s.Identity.RegisterDevice(ctx, recipes.Device{ID: "herd-wien", Model: testModel, Locale: "de-AT"})
	if err != nil {
		t.Fatal(err)
	}
	dev := s.MustDial(t, appliance.Options{ID: "herd-wien", Password: secret})
	ask := func(topic, acceptLang, ifNoneMatch string) *appliance.Reply {
		t.Helper()
		rep, err := dev.Ask(ctx, appliance.Request{Topic: topic, AcceptLang: acceptLang, IfNoneMatch: ifNoneMatch})
		if err != nil {
			t.Fatalf("%s: %v", topic, err)
		}
		return rep
	}
	type doc struct {
		Title string `json:"title"`
		Steps []struct {
			Text string `json:"text"`
		} `json:"steps"`
		Translations any `json:"translations"`
		Items        []struct {
			ID       string `json:"id"`
			Slug     string `json:"slug"`
			Title    string `json:"title"`
			Name     string `json:"name"`
			Language string `json:"language"`
		} `json:"items"`
	}
	data := func(rep *appliance.Reply) doc {
		t.Helper()
		var env struct {
			Data doc `json:"data"`
		}
		if err := json.Unmarshal(rep.Payload, &env); err != nil {
			t.Fatalf("reply %s: %v", rep.Payload, err)
		}
		return env.Data
	}
	wantLang := func(what string, rep *appliance.Reply, lang string) {
		t.Helper()
		if rep.Status != 200 && rep.Status != 304 {
			t.Fatalf("%s: status %d: %s", what, rep.Status, rep.Payload)
		}
		if rep.ContentLang != lang || rep.Language != lang {
			t.Errorf("%s: content-language %q, envelope language %q; want %q", what, rep.ContentLang, rep.Language, lang)
		}
	}

	// de-AT falls back to de, where there is de.
	de := ask("recipes/"+cat+"/"+german, "", "")
	wantLang("translated recipe", de, "de")
	if d := data(de); d.Title != "Karottenpüree" || d.Steps[0].Text != "Schritt A" || d.Translations != nil {
		t.Errorf("translated recipe: %+v", d)
	}
	// and to the default where there is none.
	en := ask("recipes/"+cat+"/"+english, "", "")
	wantLang("untranslated recipe", en, "en")
	if d := data(en); strings.Contains(d.Title, "püree") || d.Title == "" {
		t.Errorf("untranslated recipe: %+v", d)
	}

	// The list is German, and says which item is not.
	list := ask("recipes/"+cat, "", "")
	wantLang("list", list, "de")
	items := map[string]string{}
	for _, it := range data(list).Items {
		items[it.ID] = it.Title + "|" + it.Language
	}
	if items[german] != "Karottenpüree|" || !strings.HasSuffix(items[english], "|en") {
		t.Errorf("list items %v", items)
	}
	cats := ask("recipes/categories", "", "")
	wantLang("categories", cats, "de")
	found := false
	for _, it := range data(cats).Items {
		found = found || it.Slug == cat && it.Name == "Breie"
	}
	if !found {
		t.Errorf("category list %s", cats.Payload)
	}

	// A request may ask for another language; ETags differ per language.
	asEN := ask("recipes/"+cat+"/"+german, "fr-CA, en;q=0.5", "")
	wantLang("asked for en", asEN, "en")
	if asEN.ETag == de.ETag || asEN.ETag == "" {
		t.Errorf("ETags de %q, en %q: want two", de.ETag, asEN.ETag)
	}
	if nm := ask("recipes/"+cat+"/"+german, "", de.ETag); nm.Status != 304 {
		t.Errorf("if-none-match of the German ETag: status %d", nm.Status)
	} else {
		wantLang("304", nm, "de")
	}
	if nm := ask("recipes/"+cat+"/"+german, "en", de.ETag); nm.Status != 200 {
		t.Errorf("the German ETag asked in English: status %d, want 200", nm.Status)
	}
	if bad := ask("recipes/"+cat+"/"+german, "de;q=x", ""); bad.Status != 400 || !strings.Contains(string(bad.Payload), "accept-language") {
		t.Errorf("malformed accept-language: %d %s", bad.Status, bad.Payload)
	}
}
