package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
)

// mustDeclare makes the test server's catalog translate to langs.
func (s *testServer) mustDeclare(tb testing.TB, langs ...string) {
	tb.Helper()
	if err := s.Store.SetLanguages(context.Background(), recipes.Languages{Default: "en", Others: langs}); err != nil {
		tb.Fatal(err)
	}
}

func (s *testServer) mustRecipe(tb testing.TB, id string) recipes.Recipe {
	tb.Helper()
	r, _, err := s.Store.EditorRecipe(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// translationForm fills every field of r's translation page.
func translationForm(r recipes.Recipe, lang string) url.Values {
	f := url.Values{"title": {r.Title + " (" + lang + ")"}, "summary": {"Summary in " + lang}}
	for i, in := range r.Ingredients {
		f.Set(fmt.Sprintf("ingredients[%d]", i), in.Name+" "+lang)
	}
	for i, st := range r.Steps {
		f.Set(fmt.Sprintf("steps[%d]", i), lang+": "+st.Text)
	}
	return f
}

func marker(body, lang string) string {
	i := strings.Index(body, `id="translation-`+lang+`"`)
	if i < 0 {
		return ""
	}
	j := strings.Index(body[i:], ">")
	return body[i : i+j]
}

func TestAdminRecipeTranslation(t *testing.T) {
	s := MustStartServer(t)
	s.mustDeclare(t, "de", "fr")
	w := s.MustSignIn(t)
	const id = "tomato-soup"
	r := s.mustRecipe(t, id)
	page := w.Get("/recipes/" + id).Want(200)
	for _, lang := range []string{"de", "fr"} {
		if m := marker(page.Body, lang); !strings.Contains(m, "missing") {
			t.Fatalf("marker of %s = %q, want class missing", lang, m)
		}
	}
	base := "/recipes/" + id + "/translations/de"
	w.Get(base).Want(200).Has(t, r.Title, r.Steps[0].Text)

	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name, field, want string
			edit              func(url.Values)
		}{
			{"TitleRequired", "title", "is required", set("title", "")},
			{"TitleTooLong", "title", "the limit is 120", set("title", strings.Repeat("t", 121))},
			{"SomeIngredients", "ingredients[1]", "is empty while other ingredients are translated", set("ingredients[1]", "")},
			{"SomeSteps", "steps[0]", "is empty while other steps are translated", set("steps[0]", " ")},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := translationForm(r, "de")
				tt.edit(f)
				p := w.Post(base, f).Want(422)
				if got := p.FieldError(tt.field); !strings.Contains(got, tt.want) {
					t.Errorf("error next to %s = %q, want %q", tt.field, got, tt.want)
				}
				if tt.name == "TitleTooLong" && !strings.Contains(p.Body, strings.Repeat("t", 121)) {
					t.Error("the form forgot what was typed")
				}
			})
		}
		if got := s.mustRecipe(t, id); got.Translations != nil {
			t.Fatalf("an invalid form saved %+v", got.Translations)
		}
	})

	t.Run("NotOffered", func(t *testing.T) {
		w.Get("/recipes/"+id+"/translations/it").Want(404).Has(t, `does not translate to "it"`)
		w.Get("/recipes/"+id+"/translations/en").Want(404).Has(t, "default language")
		w.Get("/recipes/" + id + "/translations/x!").Want(404)
		if p := w.Get("/recipes/" + id + "/translations/DE").Want(301); p.Location != base {
			t.Errorf("redirect to %q, want %q", p.Location, base)
		}
	})

	t.Run("OK", func(t *testing.T) {
		f := translationForm(r, "de")
		f.Set("summary", "")
		for i := range r.Steps { // steps left all empty: the English texts stay
			f.Set(fmt.Sprintf("steps[%d]", i), "")
		}
		w.Post(base, f).Want(303)
		got := s.mustRecipe(t, id).Translations["de"]
		want := recipes.RecipeText{Title: r.Title + " (de)"}
		for _, in := range r.Ingredients {
			want.Ingredients = append(want.Ingredients, in.Name+" de")
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("saved translation (-want +got):\n%s", d)
		}
		page := w.Get("/recipes/" + id).Want(200)
		if m := marker(page.Body, "de"); !strings.Contains(m, "translated") || strings.Contains(m, "missing") {
			t.Errorf("marker of de after translating = %q, want translated", m)
		}
		if m := marker(page.Body, "fr"); !strings.Contains(m, "missing") {
			t.Errorf("marker of fr = %q, want still missing", m)
		}
		// It is a draft: appliances see the recipe as before until publishing.
		if _, st, _ := s.Store.EditorRecipe(context.Background(), id); st != recipes.Changed {
			t.Errorf("status %s, want changed", st)
		}
	})

	t.Run("Remove", func(t *testing.T) {
		w.Get(base+"/delete").Want(200).Has(t, "Remove the de translation")
		w.Post(base+"/delete", nil).Want(303)
		if got := s.mustRecipe(t, id).Translations; got != nil {
			t.Fatalf("translations after removal = %+v", got)
		}
		if m := marker(w.Get("/recipes/"+id).Want(200).Body, "de"); !strings.Contains(m, "missing") {
			t.Errorf("marker after removal = %q, want missing", m)
		}
	})
}

// TestAdminRecipeFormKeepsTranslations saves the default text through the
// recipe form and checks each translated name and step text stays with
// its row: kept on a plain save, moved with a moved step, dropped with a
// removed one, and the default text for a new one.
func TestAdminRecipeFormKeepsTranslations(t *testing.T) {
	s := MustStartServer(t)
	s.mustDeclare(t, "de")
	w := s.MustSignIn(t)
	const id = "tomato-soup"
	r := s.mustRecipe(t, id)
	if len(r.Steps) < 3 || len(r.Ingredients) < 2 {
		t.Fatalf("the demo recipe changed: %d steps, %d ingredients", len(r.Steps), len(r.Ingredients))
	}
	w.Post("/recipes/"+id+"/translations/de", translationForm(r, "de")).Want(303)
	de := s.mustRecipe(t, id).Translations["de"]

	// form returns the recipe form as the page shows it, rows and all.
	form := func(body string) url.Values {
		// Only the recipe form: the move and send forms follow it.
		body, _, _ = strings.Cut(body, `class="card form move"`)
		f := formValues(body)
		f.Set("op", "save")
		return f
	}
	page := w.Get("/recipes/" + id).Want(200)
	if !strings.Contains(page.Body, `name="steps[2].orig" value="2"`) {
		t.Fatal("the form's rows do not say which saved row they are")
	}

	t.Run("PlainSave", func(t *testing.T) {
		f := form(page.Body)
		f.Set("title", r.Title+" edited")
		w.Post("/recipes/"+id, f).Want(303)
		if d := cmp.Diff(de, s.mustRecipe(t, id).Translations["de"]); d != "" {
			t.Fatalf("translation changed by saving the default text (-want +got):\n%s", d)
		}
	})
	t.Run("RemoveStep", func(t *testing.T) {
		f := form(w.Get("/recipes/" + id).Want(200).Body)
		f.Set("op", "remove-step:0")
		shown := w.Post("/recipes/"+id, f).Want(200) // a row operation re-shows the form
		f = form(shown.Body)
		if f.Get("steps[0].orig") != "1" {
			t.Fatalf("after removing step 1, row 1 says it was row %q, want 1", f.Get("steps[0].orig"))
		}
		w.Post("/recipes/"+id, f).Want(303)
		got := s.mustRecipe(t, id)
		if want := de.Steps[1:]; !slices.Equal(got.Translations["de"].Steps, want) {
			t.Fatalf("German steps = %q, want %q", got.Translations["de"].Steps, want)
		}
		if len(got.Steps) != len(r.Steps)-1 {
			t.Fatalf("%d steps saved, want %d", len(got.Steps), len(r.Steps)-1)
		}
		de = got.Translations["de"]
	})
	t.Run("MoveStepAndAddIngredient", func(t *testing.T) {
		f := form(w.Get("/recipes/" + id).Want(200).Body)
		f.Set("op", "step-down:0")
		f = form(w.Post("/recipes/"+id, f).Want(200).Body)
		n := len(r.Ingredients)
		f.Set(fmt.Sprintf("ingredients[%d].name", n), "pepper")
		f.Set(fmt.Sprintf("ingredients[%d].quantity", n), "1")
		f.Set(fmt.Sprintf("ingredients[%d].unit", n), "pinch")
		w.Post("/recipes/"+id, f).Want(303)
		got := s.mustRecipe(t, id).Translations["de"]
		if got.Steps[0] != de.Steps[1] || got.Steps[1] != de.Steps[0] {
			t.Errorf("German steps = %q, want the first two swapped from %q", got.Steps, de.Steps)
		}
		if want := append(slices.Clone(de.Ingredients), "pepper"); !slices.Equal(got.Ingredients, want) {
			t.Errorf("German ingredients = %q, want %q", got.Ingredients, want)
		}
		// The translation page flags the copied default text.
		w.Get("/recipes/"+id+"/translations/de").Want(200).Has(t, "Same as the en text")
	})
}

func TestAdminCategoryTranslation(t *testing.T) {
	s := MustStartServer(t)
	s.mustDeclare(t, "de")
	w := s.MustSignIn(t)
	if m := marker(w.Get("/categories/soups/edit").Want(200).Body, "de"); !strings.Contains(m, "missing") {
		t.Fatalf("marker = %q, want missing", m)
	}
	base := "/categories/soups/translations/de"
	w.Get(base).Want(200).Has(t, "Name", "Description")
	p := w.Post(base, url.Values{"name": {""}, "description": {"Heiß."}}).Want(422)
	if got := p.FieldError("name"); !strings.Contains(got, "is required") {
		t.Errorf("error next to name = %q", got)
	}
	w.Post(base, url.Values{"name": {"Suppen"}, "description": {"Heiß."}}).Want(303)
	ci, _ := s.Store.EditorCategory(context.Background(), "soups")
	if got := ci.Translations["de"]; got != (recipes.CategoryText{Name: "Suppen", Description: "Heiß."}) {
		t.Fatalf("saved %+v", got)
	}
	if m := marker(w.Get("/categories/soups/edit").Want(200).Body, "de"); !strings.Contains(m, "translated") {
		t.Fatalf("marker after translating = %q", m)
	}
	// Saving the default text keeps the translation.
	w.Post("/categories/soups/edit", url.Values{"name": {"Soups!"}, "description": {"Hot."}}).Want(303)
	if ci, _ := s.Store.EditorCategory(context.Background(), "soups"); ci.Translations["de"].Name != "Suppen" {
		t.Fatalf("editing the category lost its translation: %+v", ci.Translations)
	}
	w.Post(base+"/delete", nil).Want(303)
	if ci, _ := s.Store.EditorCategory(context.Background(), "soups"); ci.Translations != nil {
		t.Fatalf("after removal: %+v", ci.Translations)
	}
}

func TestAdminLanguages(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	w.Get("/languages").Want(200).Has(t, "Languages", "The catalog is in en alone")
	langs := func() recipes.Languages {
		l, err := s.Store.Languages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	add := func(tag string) *webtest.Page { return w.Post("/languages", url.Values{"op": {"add"}, "tag": {tag}}) }
	t.Run("ErrBadTag", func(t *testing.T) {
		tests := []struct{ tag, want, value string }{
			{"de-at", `Write "de-at" as "de-AT", its canonical BCP 47 form`, "de-AT"},
			{"iw", `Write "iw" as "he"`, "he"},
			{"deutsch!", `"deutsch!" is not a BCP 47 language tag`, "deutsch!"},
			{"", "Language tag is empty", ""},
			{"en", `"en" is the default language already`, "en"},
		}
		for _, tt := range tests {
			p := add(tt.tag).Want(422)
			if got := p.FieldError("tag"); !strings.Contains(got, tt.want) {
				t.Errorf("add %q: error next to tag = %q, want %q", tt.tag, got, tt.want)
			}
			if !strings.Contains(p.Body, `name="tag" value="`+tt.value+`"`) {
				t.Errorf("add %q: the field does not offer %q", tt.tag, tt.value)
			}
		}
		if l := langs(); len(l.Others) != 0 {
			t.Fatalf("a refused add declared %q", l.Others)
		}
	})
	t.Run("Add", func(t *testing.T) {
		add("de").Want(303)
		add("de-AT").Want(303)
		if l := langs(); !slices.Equal(l.Others, []string{"de", "de-AT"}) {
			t.Fatalf("languages = %q", l.Others)
		}
		p := w.Get("/languages").Want(200)
		p.Has(t, "de", "de-AT")
		if !strings.Contains(p.Body, `href="/translations?lang=de"`) {
			t.Error("no link to the recipes missing de")
		}
		if got := add("de").Want(422).FieldError("tag"); !strings.Contains(got, `"de" is offered already`) {
			t.Errorf("adding twice: %q", got)
		}
	})
	t.Run("RemoveRefusedWhileTranslated", func(t *testing.T) {
		r := s.mustRecipe(t, "tomato-soup")
		w.Post("/recipes/tomato-soup/translations/de", translationForm(r, "de")).Want(303)
		p := w.Post("/languages", url.Values{"op": {"remove:de"}}).Want(422)
		if got := p.FieldError("remove-de"); !strings.Contains(got, `Cannot stop offering "de": 1 recipe and 0 categories`) {
			t.Errorf("error next to remove = %q", got)
		}
		if got := w.Post("/languages", url.Values{"op": {"default"}, "default": {"de"}}).Want(422).FieldError("default"); !strings.Contains(got, "remove it first") {
			t.Errorf("default to an offered language: %q", got)
		}
		w.Post("/recipes/tomato-soup/translations/de/delete", nil).Want(303)
	})
	t.Run("Remove", func(t *testing.T) {
		w.Post("/languages", url.Values{"op": {"remove:de"}}).Want(303)
		if l := langs(); !slices.Equal(l.Others, []string{"de-AT"}) {
			t.Fatalf("languages = %q", l.Others)
		}
	})
	t.Run("Default", func(t *testing.T) {
		w.Post("/languages", url.Values{"op": {"default"}, "default": {"en-GB"}}).Want(303)
		if l := langs(); l.Default != "en-GB" {
			t.Fatalf("default = %q", l.Default)
		}
	})
}

func TestAdminMissingTranslations(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	w.Get("/translations").Want(200).Has(t, "no languages to translate to")
	s.mustDeclare(t, "de")
	total := func() int {
		p := w.Get("/translations?lang=de").Want(200)
		m := missingTotal.FindStringSubmatch(p.Text())
		if m == nil {
			t.Fatalf("no total on the page: %s", p.Text())
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	before := total()
	if cov, _ := s.Store.Coverage(context.Background()); before != min(cov.Recipes, before) || before == 0 {
		t.Fatalf("missing total %d for %d recipes", before, cov.Recipes)
	}
	m := translateDE.FindStringSubmatch(w.Get("/translations?lang=de").Want(200).Body)
	if m == nil {
		t.Fatal("no link to translate a recipe")
	}
	first := m[1]
	w.Post("/recipes/"+first+"/translations/de", translationForm(s.mustRecipe(t, first), "de")).Want(303)
	if after := total(); after != before-1 {
		t.Fatalf("missing total %d after translating one, want %d", after, before-1)
	}
	if strings.Contains(w.Get("/translations?lang=de").Body, `/recipes/`+first+`/translations/de"`) {
		t.Error("a translated recipe is still listed")
	}
	w.Get("/translations?lang=it").Want(404)
}

func TestAPILanguagesAndTranslations(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "robot", recipes.ScopeCatalog)}
	var l recipes.Languages
	decodeBody(t, api.Call("GET", "/api/languages", nil).Want(200), &l)
	if l.Default != "en" || len(l.Others) != 0 {
		t.Fatalf("GET /api/languages = %+v", l)
	}
	var e webtest.APIError
	decodeBody(t, api.Call("PUT", "/api/languages", map[string]any{"default_language": "en", "languages": []string{"de-at"}}).Want(400), &e)
	if len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "languages[0]" || !strings.Contains(e.Error.Fields[0].Message, `"de-AT"`) {
		t.Errorf("bad tag: %+v", e)
	}
	api.Call("PUT", "/api/languages", `{"default_language":"en","languages":["de"],"langs":[]}`).Want(400)
	decodeBody(t, api.Call("PUT", "/api/languages", recipes.Languages{Default: "en", Others: []string{"de"}}).Want(200), &l)
	if !slices.Equal(l.Others, []string{"de"}) {
		t.Fatalf("PUT returned %+v", l)
	}

	// Translations travel in the recipe's JSON and come back as sent.
	var r struct {
		recipes.Recipe
		Status string `json:"status"`
	}
	decodeBody(t, api.Call("GET", "/api/recipes/tomato-soup", nil).Want(200), &r)
	r.Translations = map[string]recipes.RecipeText{"de": {Title: "Tomatensuppe", Steps: make([]string, len(r.Steps))}}
	for i := range r.Steps {
		r.Translations["de"].Steps[i] = "Schritt " + strconv.Itoa(i+1)
	}
	api.Call("PUT", "/api/recipes/tomato-soup", r.Recipe).Want(200)
	var back struct {
		Translations map[string]recipes.RecipeText `json:"translations"`
	}
	decodeBody(t, api.Call("GET", "/api/recipes/tomato-soup", nil).Want(200), &back)
	if d := cmp.Diff(r.Translations, back.Translations); d != "" {
		t.Fatalf("translations did not round-trip (-sent +got):\n%s", d)
	}
	decodeBody(t, api.Call("PUT", "/api/languages", recipes.Languages{Default: "en"}).Want(409), &e)
	if !strings.Contains(e.Error.Message, `Cannot stop offering "de": 1 recipe`) {
		t.Errorf("dropping a used language: %+v", e)
	}
}

func decodeBody(tb testing.TB, p *webtest.Page, v any) {
	tb.Helper()
	if err := json.Unmarshal([]byte(p.Body), v); err != nil {
		tb.Fatalf("decode %s: %v", p.Body, err)
	}
}

// TestOpenAPIDocumentsTranslations checks that the API document names the
// translations member of recipes and categories and what it holds.
func TestOpenAPIDocumentsTranslations(t *testing.T) {
	b, err := web.FS.ReadFile("static/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					AdditionalProperties struct {
						Ref string `json:"$ref"`
					} `json:"additionalProperties"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for schema, want := range map[string]string{"Recipe": "#/components/schemas/RecipeText", "Category": "#/components/schemas/CategoryText"} {
		got := doc.Components.Schemas[schema].Properties["translations"].AdditionalProperties.Ref
		if got != want {
			t.Errorf("%s.translations holds %q, want %q", schema, got, want)
		}
		if _, ok := doc.Components.Schemas[strings.TrimPrefix(want, "#/components/schemas/")]; !ok {
			t.Errorf("%s is not defined", want)
		}
	}
}
