package admin_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

// recipeForm is a valid new-recipe form; edits change it.
func recipeForm(id, title string, edits ...func(url.Values)) url.Values {
	f := url.Values{
		"id": {id}, "title": {title}, "summary": {"A test recipe."}, "servings": {"4"}, "total_minutes": {"30"},
		"difficulty": {"easy"}, "tags": {"quick, test"},
		"ingredients[0].name": {"water"}, "ingredients[0].quantity": {"500"}, "ingredients[0].unit": {"ml"},
		"ingredients[1].name": {"salt"}, "ingredients[1].quantity": {"1"}, "ingredients[1].unit": {"pinch"},
		"steps[0].text": {"Boil the water."}, "steps[0].minutes": {"10"}, "steps[0].temperature_c": {"100"}, "steps[0].speed": {"1"},
		"steps[1].text": {"Season."},
		"op":            {"save"},
	}
	for _, e := range edits {
		e(f)
	}
	return f
}

func set(kv ...string) func(url.Values) {
	return func(f url.Values) {
		for i := 0; i < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
	}
}

func testRecipe(id, cat, title string) recipes.Recipe {
	return recipes.Recipe{
		ID: id, Category: cat, Title: title, Servings: 2, TotalMinutes: 10, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 1, Unit: "l"}},
		Steps:       []recipes.Step{{Text: "Heat."}},
	}
}

func TestAdminRecipeValidation(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	w.Get("/categories/soups/recipes/new").Want(200).Has(t, "New recipe", "Ingredients", "Steps")
	tests := []struct {
		name  string
		edit  func(url.Values)
		field string // where the message must show
		want  string
	}{
		{"IDInvalid", set("id", "Bad ID"), "id", "must be lower-case letters"},
		{"IDTaken", set("id", "tomato-soup"), "id", `"tomato-soup" is already taken by another recipe`},
		{"TitleRequired", set("title", "", "id", "x"), "title", "is required"},
		{"TitleTooLong", set("title", strings.Repeat("t", 121)), "title", "the limit is 120"},
		{"SummaryTooLong", set("summary", strings.Repeat("s", 501)), "summary", "the limit is 500"},
		{"ServingsRequired", set("servings", ""), "servings", "is required"},
		{"ServingsNotANumber", set("servings", "four"), "servings", "must be a whole number"},
		{"ServingsTooMany", set("servings", "51"), "servings", "must be between 1 and 50, not 51"},
		{"TotalMinutesZero", set("total_minutes", "0"), "total_minutes", "must be between 1 and 1440, not 0"},
		{"Difficulty", set("difficulty", "extreme"), "difficulty", `"extreme" is not one of easy, medium, hard`},
		{"DifficultyRequired", set("difficulty", ""), "difficulty", "is required (easy, medium or hard)"},
		{"Model", func(f url.Values) { f["models"] = []string{"CM-100", "XX-1"} }, "models", `Model 2: "XX-1" is not a known appliance model`},
		{"ModelTwice", func(f url.Values) { f["models"] = []string{"CM-100", "CM-100"} }, "models", `"CM-100" is listed twice`},
		{"Tag", set("tags", "good, bad#tag"), "tags", `Tag 2: "bad#tag" must be lower case`},
		{"TooManyTags", set("tags", strings.Repeat("t,", 20)+"a,b,c"), "tags", "the limit is 20"},
		{"NoIngredients", func(f url.Values) {
			for _, k := range []string{"name", "quantity", "unit"} {
				f.Del("ingredients[0]." + k)
				f.Del("ingredients[1]." + k)
			}
		}, "ingredients", "needs at least one ingredient"},
		{"IngredientName", set("ingredients[1].name", "", "ingredients[1].quantity", "2"), "ingredients[1].name", "is required"},
		{"QuantityNegative", set("ingredients[0].quantity", "-1"), "ingredients[0].quantity", "must not be negative (-1)"},
		{"QuantityNotANumber", set("ingredients[0].quantity", "lots"), "ingredients[0].quantity", "must be a number"},
		{"QuantityTooMuch", set("ingredients[0].quantity", "100001"), "ingredients[0].quantity", "must be at most 100000"},
		{"Unit", set("ingredients[1].unit", "bucket"), "ingredients[1].unit", `"bucket" is not a known unit`},
		{"NoSteps", func(f url.Values) {
			for _, k := range []string{"text", "minutes", "temperature_c", "speed"} {
				f.Del("steps[0]." + k)
				f.Del("steps[1]." + k)
			}
		}, "steps", "needs at least one step"},
		{"StepText", set("steps[1].text", "", "steps[1].minutes", "3"), "steps[1].text", "is required"},
		{"StepMinutes", set("steps[0].minutes", "721"), "steps[0].minutes", "must be between 0 and 720, not 721"},
		{"StepMinutesNotANumber", set("steps[0].minutes", "ten"), "steps[0].minutes", "must be a whole number"},
		{"Temperature", set("steps[1].temperature_c", "200"), "steps[1].temperature_c", "must be between 37 and 160 °C, not 200"},
		{"Speed", set("steps[0].speed", "11"), "steps[0].speed", "must be between 0 and 10, not 11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := recipeForm("new-soup", "New soup", tt.edit)
			p := w.Post("/categories/soups/recipes/new", form).Want(422)
			if got := p.FieldError(tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("error next to %s = %q, want %q", tt.field, got, tt.want)
			}
			p.Has(t, "Please fix")
			if tt.name == "QuantityNotANumber" && !strings.Contains(p.Body, `value="lots"`) {
				t.Error("the form forgot what was typed")
			}
		})
	}
	if _, _, err := s.Store.EditorRecipe(context.Background(), "new-soup"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("an invalid form saved a recipe: %v", err)
	}
	t.Run("SeveralAtOnce", func(t *testing.T) {
		p := w.Post("/categories/soups/recipes/new", recipeForm("x", "", set("servings", "0", "steps[1].temperature_c", "5"))).Want(422)
		p.Has(t, "Please fix these 3 problems")
		for _, f := range []string{"title", "servings", "steps[1].temperature_c"} {
			if p.FieldError(f) == "" {
				t.Errorf("no error next to %s", f)
			}
		}
	})
	t.Run("RowOperations", func(t *testing.T) {
		p := w.Post("/categories/soups/recipes/new", recipeForm("x", "X", set("op", "add-ingredient"))).Want(200)
		if !strings.Contains(p.Body, `name="ingredients[2].name"`) || strings.Contains(p.Body, "Please fix") {
			t.Error("add-ingredient did not add an empty row quietly")
		}
		p = w.Post("/categories/soups/recipes/new", recipeForm("x", "X", set("op", "remove-step:0"))).Want(200)
		if strings.Contains(p.Body, "Boil the water.") || !strings.Contains(p.Body, "Season.") {
			t.Error("remove-step:0 did not remove the first step")
		}
		p = w.Post("/categories/soups/recipes/new", recipeForm("x", "X", set("op", "step-down:0"))).Want(200)
		if strings.Index(p.Body, "Season.") > strings.Index(p.Body, "Boil the water.") {
			t.Error("step-down:0 did not move the first step down")
		}
	})
}

func TestAdminRecipeLifecycle(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	ctx := context.Background()

	// Create: a draft appliances do not see.
	p := w.Post("/categories/soups/recipes/new", recipeForm("", "Nettle soup")).Want(303)
	if p.Location != "/recipes/nettle-soup" {
		t.Fatalf("redirect to %q (id from the title)", p.Location)
	}
	w.Get(p.Location).Want(200).Has(t, "Nettle soup", "Draft", "Saved “Nettle soup” as a draft.")
	if r := s.MustAsk(t, "recipes/soups/nettle-soup"); r.Status != 404 {
		t.Fatalf("draft answered %v", r)
	}
	w.Get("/categories/soups?q=nettle").Want(200).Has(t, "Nettle soup", "Draft")
	w.Get("/categories").Want(200).Has(t, "1 unpublished change")

	// Publish: appliances see it at once.
	w.Post("/recipes/nettle-soup/publish", nil).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Published 1 recipe. Appliances see the changes now.")
	r1 := s.MustAsk(t, "recipes/soups/nettle-soup")
	if r1.Status != 200 {
		t.Fatalf("published recipe: %v", r1)
	}

	// Edit: changed, appliances still see the old version until publish.
	w.Post("/recipes/nettle-soup", recipeForm("ignored", "Nettle soup with wild garlic")).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Changed", "Discard changes")
	if r := s.MustAsk(t, "recipes/soups/nettle-soup"); r.ETag != r1.ETag {
		t.Fatal("an unpublished edit changed what appliances get")
	}
	w.Get("/recipes/nettle-soup/discard").Want(200).Has(t, "Discard your changes to “Nettle soup with wild garlic”?")
	w.Post("/recipes/nettle-soup/discard", nil).Want(303)
	if got, st, _ := s.Store.EditorRecipe(ctx, "nettle-soup"); st != recipes.Published || got.Title != "Nettle soup" {
		t.Fatalf("after discard: %q %s", got.Title, st)
	}
	w.Post("/recipes/nettle-soup/discard", nil).Want(303) // nothing to discard: fine

	// Save and publish in one click.
	w.Post("/recipes/nettle-soup", recipeForm("", "Nettle soup with wild garlic", set("op", "publish"))).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Published 1 recipe.")
	r2 := s.MustAsk(t, "recipes/soups/nettle-soup")
	var got recipes.Recipe
	if err := json.Unmarshal(r2.Data, &got); err != nil || got.Title != "Nettle soup with wild garlic" || r2.ETag == r1.ETag {
		t.Fatalf("after publishing the edit: %q etag %s (before %s) %v", got.Title, r2.ETag, r1.ETag, err)
	}
	p = w.Post("/recipes/nettle-soup", recipeForm("", "", set("op", "publish"))).Want(422)
	if p.FieldError("title") != "is required" {
		t.Error("publishing an invalid form did not show the error")
	}

	// Move: at once; never into a category appliances cannot see.
	w.Post("/categories/new", url.Values{"name": {"Hidden"}}).Want(303)
	w.Post("/recipes/nettle-soup/move", url.Values{"move_to": {"hidden"}}).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, `category "hidden" is not published yet`)
	w.Post("/recipes/nettle-soup/move", url.Values{"move_to": {"nope"}}).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, `category "nope" does not exist`)
	w.Post("/recipes/nettle-soup/move", url.Values{"move_to": {"main-dishes"}}).Want(303)
	w.Get("/recipes/nettle-soup").Want(200).Has(t, "Moved to “Main dishes”.")
	if r := s.MustAsk(t, "recipes/main-dishes/nettle-soup"); r.Status != 200 {
		t.Fatalf("after the move: %v", r)
	}

	// A new recipe in a new category publishes both.
	w.Post("/categories/hidden/recipes/new", recipeForm("secret-soup", "Secret soup", set("op", "publish"))).Want(303)
	w.Get("/recipes/secret-soup").Want(200).Has(t, "Published 1 category and 1 recipe.")
	if r := s.MustAsk(t, "recipes/hidden/secret-soup"); r.Status != 200 {
		t.Fatalf("recipe published with its category: %v", r)
	}

	// Delete: confirm first.
	w.Get("/recipes/nettle-soup/delete").Want(200).Has(t, "Delete the recipe “Nettle soup with wild garlic”?", "cannot be undone")
	p = w.Post("/recipes/nettle-soup/delete", nil).Want(303)
	if p.Location != "/categories/main-dishes" {
		t.Errorf("after delete: %q", p.Location)
	}
	if r := s.MustAsk(t, "recipes/main-dishes/nettle-soup"); r.Status != 404 {
		t.Fatalf("deleted recipe answered %v", r)
	}
	for _, path := range []string{"/recipes/nettle-soup", "/recipes/nettle-soup/delete"} {
		w.Get(path).Want(404)
	}
	for _, path := range []string{"/recipes/nettle-soup", "/recipes/nettle-soup/delete"} {
		w.Post(path, recipeForm("", "X")).Want(404)
	}
	w.Get("/categories/nope/recipes/new").Want(404)
}
