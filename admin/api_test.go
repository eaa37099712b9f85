package admin_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

func TestAdminTokens(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	w.Get("/tokens").Want(200).Has(t, "No API tokens yet.")
	secret := webtest.MustToken(t, w, "importer", recipes.ScopeCatalog)
	if !strings.HasPrefix(secret, "rcpd_") {
		t.Errorf("secret %q", secret)
	}
	p := w.Get("/tokens").Want(200).Has(t, "importer", "admin")
	if strings.Contains(p.Body, secret) {
		t.Fatal("the secret is shown again")
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		p := w.Post("/tokens", url.Values{"name": {"no-scope"}}).Want(422)
		if got := p.FieldError("scope"); got != "choose at least one scope (catalog, devices, commands, metrics, audit)" {
			t.Errorf("error next to the scopes: %q", got)
		}
		p = w.Post("/tokens", url.Values{"name": {"bad-scope"}, "scope": {"catalog", "root"}}).Want(422)
		if got := p.FieldError("scope"); got != `"root" is not a scope (catalog, devices, commands, metrics, audit)` {
			t.Errorf("error next to the scopes: %q", got)
		}
		p = w.Post("/tokens", url.Values{"name": {"Bad Name"}, "scope": {"catalog"}}).Want(422)
		if got := p.FieldError("name"); !strings.Contains(got, `token name "Bad Name" must be 1 to 32 lower-case letters`) {
			t.Errorf("error next to name: %q", got)
		}
		p = w.Post("/tokens", url.Values{"name": {"importer"}, "scope": {"catalog"}}).Want(422)
		if got := p.FieldError("name"); got != `an API token named "importer" already exists` {
			t.Errorf("error next to name: %q", got)
		}
	})
	api := &webtest.API{W: s.NewWebClient(t), Token: secret}
	api.Call("GET", "/api/categories", nil).Want(200)
	w.Get("/tokens").Want(200).Has(t, "importer catalog admin")
	// A catalog token cannot touch devices or command appliances.
	for _, c := range []struct{ method, path, scope string }{
		{"GET", "/api/devices", "devices"},
		{"POST", "/api/devices/demo-oven/rotate", "devices"},
		{"PATCH", "/api/devices/demo-oven", "devices"},
		{"POST", "/api/devices/demo-oven/rpc", "commands"},
	} {
		p := api.Call(c.method, c.path, map[string]any{"enabled": false}).Want(403)
		e := webtest.DecodeJSON[webtest.APIError](t, p)
		want := `The API token "importer" may not do this: it needs the "` + c.scope + `" scope and has catalog.`
		if e.Error.Code != "forbidden" || !strings.HasPrefix(e.Error.Message, want) {
			t.Errorf("%s %s: %+v, want forbidden: %s", c.method, c.path, e.Error, want)
		}
	}
	if d, err := s.Identity.Device(context.Background(), "demo-oven"); err != nil || !d.Enabled {
		t.Fatalf("a refused request changed the device: %+v %v", d, err)
	}
	w.Get("/tokens/importer/revoke").Want(200).Has(t, "Revoke the API token “importer”?")
	w.Post("/tokens/importer/revoke", nil).Want(303)
	w.Get("/tokens").Want(200).Has(t, "API token “importer” revoked.")
	api.Call("GET", "/api/categories", nil).Want(401)
	w.Post("/tokens/importer/revoke", nil).Want(404)
}

func TestAdminAPI(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "robot")}

	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, token := range []string{"", "rcpd_not-a-token"} {
			p := (&webtest.API{W: api.W, Token: token}).Call("GET", "/api/categories", nil).Want(401)
			if got := webtest.DecodeJSON[webtest.APIError](t, p).Error.Code; got != "unauthorized" {
				t.Errorf("code %q", got)
			}
			if !strings.HasPrefix(p.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("no WWW-Authenticate")
			}
		}
		// The session cookie is no API credential.
		w.Get("/api/categories").Want(401)
	})
	t.Run("OpenAPI", func(t *testing.T) {
		p := (&webtest.API{W: api.W}).Call("GET", "/api/openapi.json", nil).Want(200)
		doc := webtest.DecodeJSON[map[string]any](t, p)
		if doc["openapi"] != "3.1.0" {
			t.Errorf("openapi = %v", doc["openapi"])
		}
	})

	// Categories.
	cats := webtest.DecodeJSON[struct{ Items []recipes.CategoryInfo }](t, api.Call("GET", "/api/categories", nil).Want(200))
	if len(cats.Items) != 10 || cats.Items[0].Slug != "soups" || cats.Items[0].Recipes != 13 {
		t.Fatalf("categories %+v", cats.Items)
	}
	p := api.Call("POST", "/api/categories", recipes.Category{Slug: "Bad Slug", Name: ""}).Want(400)
	e := webtest.DecodeJSON[webtest.APIError](t, p)
	if e.Error.Code != "invalid" || len(e.Error.Fields) != 2 || e.Error.Fields[0].Field != "slug" || e.Error.Fields[1].Field != "name" {
		t.Fatalf("validation error %+v", e)
	}
	api.Call("POST", "/api/categories", "{not json").Want(400)
	api.Call("POST", "/api/categories", recipes.Category{Slug: "soups", Name: "Again"}).Want(400)
	p = api.Call("POST", "/api/categories", recipes.Category{Slug: "salads", Name: "Salads"}).Want(201)
	if c := webtest.DecodeJSON[recipes.CategoryInfo](t, p); c.Status != recipes.Unpublished || p.Header.Get("Location") != "/api/categories/salads" {
		t.Fatalf("created %+v at %q", c, p.Header.Get("Location"))
	}
	name := "Green salads"
	p = api.Call("PATCH", "/api/categories/salads", recipes.CategoryUpdate{Name: &name}).Want(200)
	if c := webtest.DecodeJSON[recipes.CategoryInfo](t, p); c.Name != name {
		t.Fatalf("patched %+v", c)
	}
	api.Call("PATCH", "/api/categories/nope", recipes.CategoryUpdate{Name: &name}).Want(404)
	api.Call("GET", "/api/categories/nope", nil).Want(404)
	api.Call("GET", "/api/categories/salads", nil).Want(200)

	// Recipes.
	r := testRecipe("caesar", "salads", "Caesar salad")
	bad := r
	bad.Steps = []recipes.Step{{Text: "Bake.", TemperatureC: new(200)}}
	e = webtest.DecodeJSON[webtest.APIError](t, api.Call("POST", "/api/recipes", bad).Want(400))
	if len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "steps[0].temperature_c" {
		t.Fatalf("validation error %+v", e)
	}
	p = api.Call("POST", "/api/recipes", r).Want(201)
	if got := webtest.DecodeJSON[apiRecipeJSON](t, p); got.Status != recipes.Unpublished || got.Title != r.Title {
		t.Fatalf("created %+v", got)
	}
	api.Call("POST", "/api/recipes", r).Want(400) // id taken
	page := webtest.DecodeJSON[recipes.RecipePage](t, api.Call("GET", "/api/categories/salads/recipes", nil).Want(200))
	if page.Total != 1 || page.Items[0].ID != "caesar" {
		t.Fatalf("list %+v", page)
	}
	page = webtest.DecodeJSON[recipes.RecipePage](t, api.Call("GET", "/api/categories/soups/recipes?q=soup&offset=9&limit=2", nil).Want(200))
	if page.Total != 11 || len(page.Items) != 2 { // not gazpacho, not minestrone
		t.Fatalf("filtered page: total %d, %d items", page.Total, len(page.Items))
	}
	api.Call("GET", "/api/categories/soups/recipes?limit=1000", nil).Want(400)
	api.Call("GET", "/api/categories/nope/recipes", nil).Want(404)

	r.Title = "Caesar salad, classic"
	api.Call("PUT", "/api/recipes/caesar", r).Want(200)
	api.Call("PUT", "/api/recipes/other-id", r).Want(400)
	api.Call("PUT", "/api/recipes/nope", testRecipe("nope", "salads", "Nope")).Want(404)
	if got := webtest.DecodeJSON[apiRecipeJSON](t, api.Call("GET", "/api/recipes/caesar", nil).Want(200)); got.Title != r.Title {
		t.Fatalf("saved %+v", got)
	}

	// Publish: the category comes with the recipe.
	pub := webtest.DecodeJSON[recipes.Publication](t, api.Call("POST", "/api/recipes/caesar/publish", nil).Want(200))
	if len(pub.Categories) != 1 || len(pub.Recipes) != 1 {
		t.Fatalf("publication %+v", pub)
	}
	if rep := s.MustAsk(t, "recipes/salads/caesar"); rep.Status != 200 {
		t.Fatalf("published recipe: %v", rep)
	}
	r.Title = "Caesar salad, changed"
	api.Call("PUT", "/api/recipes/caesar", r).Want(200)
	if got := webtest.DecodeJSON[apiRecipeJSON](t, api.Call("POST", "/api/recipes/caesar/discard", nil).Want(200)); got.Status != recipes.Published {
		t.Fatalf("after discard %+v", got)
	}
	api.Call("PUT", "/api/recipes/caesar", r).Want(200)
	pub = webtest.DecodeJSON[recipes.Publication](t, api.Call("POST", "/api/categories/salads/publish", nil).Want(200))
	if len(pub.Recipes) != 1 || len(pub.Categories) != 0 {
		t.Fatalf("category publication %+v", pub)
	}

	// Move, order, delete.
	api.Call("POST", "/api/recipes/caesar/move", map[string]string{"category": "nope"}).Want(400)
	api.Call("POST", "/api/recipes/caesar/move", map[string]string{"category": "soups"}).Want(200)
	if rep := s.MustAsk(t, "recipes/soups/caesar"); rep.Status != 200 {
		t.Fatalf("moved recipe: %v", rep)
	}
	order := []string{"salads"}
	for _, c := range cats.Items {
		order = append(order, c.Slug)
	}
	p = api.Call("PUT", "/api/category-order", map[string][]string{"slugs": order}).Want(200)
	if got := webtest.DecodeJSON[struct{ Items []recipes.CategoryInfo }](t, p); got.Items[0].Slug != "salads" {
		t.Fatalf("order %+v", got.Items[0])
	}
	api.Call("PUT", "/api/category-order", map[string][]string{"slugs": order[1:]}).Want(400)
	e = webtest.DecodeJSON[webtest.APIError](t, api.Call("DELETE", "/api/categories/soups", nil).Want(409))
	if e.Error.Code != "conflict" {
		t.Fatalf("delete a full category: %+v", e)
	}
	api.Call("DELETE", "/api/categories/soups?delete_recipes=maybe", nil).Want(400)
	api.Call("DELETE", "/api/categories/soups?move_to=salads", nil).Want(200)
	if rep := s.MustAsk(t, "recipes/salads/tomato-soup"); rep.Status != 200 {
		t.Fatalf("moved with its category: %v", rep)
	}
	api.Call("DELETE", "/api/categories/desserts?delete_recipes=true", nil).Want(200)
	api.Call("DELETE", "/api/recipes/caesar", nil).Want(204)
	api.Call("DELETE", "/api/recipes/caesar", nil).Want(404)
	api.Call("GET", "/api/recipes/caesar", nil).Want(404)
	api.Call("POST", "/api/recipes/caesar/publish", nil).Want(404)
	api.Call("GET", "/api/no-such-thing", nil).Want(404)
	api.Call("POST", "/api/categories", map[string]string{"slug": "x"}).Want(400)
}

// apiRecipeJSON is a recipe as the API returns it.
type apiRecipeJSON struct {
	recipes.Recipe
	Status recipes.Status `json:"status"`
}
