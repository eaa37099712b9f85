package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

// apiClient calls the JSON API with a token.
type apiClient struct {
	w     *webClient
	token string
}

func (a *apiClient) call(method, path string, body any) *webPage {
	a.w.tb.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.w.tb.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, a.w.base.String()+path, rd)
	if err != nil {
		a.w.tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	return a.w.Do(req)
}

type apiErr struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Fields  []recipes.FieldError `json:"fields"`
	} `json:"error"`
}

// MustToken creates an API token in the UI and returns its secret. It has
// the scopes given, or every scope.
func (s *testServer) MustToken(tb testing.TB, w *webClient, name string, scopes ...string) string {
	tb.Helper()
	if scopes == nil {
		scopes = recipes.AllScopes
	}
	p := w.Post("/tokens", url.Values{"name": {name}, "scope": scopes}).Want(200)
	m := regexp.MustCompile(`<code class="token" id="token-secret">([^<]+)</code>`).FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no secret on the page:\n%s", excerpt(p.Body))
	}
	return m[1]
}

func TestAdminTokens(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	w.Get("/tokens").Want(200).Has(t, "No API tokens yet.")
	secret := s.MustToken(t, w, "importer", recipes.ScopeCatalog)
	if !strings.HasPrefix(secret, "rcpd_") {
		t.Errorf("secret %q", secret)
	}
	p := w.Get("/tokens").Want(200).Has(t, "importer", "admin")
	if strings.Contains(p.Body, secret) {
		t.Fatal("the secret is shown again")
	}
	t.Run("ErrInvalid", func(t *testing.T) {
		p := w.Post("/tokens", url.Values{"name": {"no-scope"}}).Want(422)
		if got := p.FieldError("scope"); got != "choose at least one scope (catalog, devices, commands, metrics)" {
			t.Errorf("error next to the scopes: %q", got)
		}
		p = w.Post("/tokens", url.Values{"name": {"bad-scope"}, "scope": {"catalog", "root"}}).Want(422)
		if got := p.FieldError("scope"); got != `"root" is not a scope (catalog, devices, commands, metrics)` {
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
	api := &apiClient{w: s.NewWebClient(t), token: secret}
	api.call("GET", "/api/categories", nil).Want(200)
	w.Get("/tokens").Want(200).Has(t, "importer catalog admin")
	// A catalog token cannot touch devices or command appliances.
	for _, c := range []struct{ method, path, scope string }{
		{"GET", "/api/devices", "devices"},
		{"POST", "/api/devices/demo-oven/rotate", "devices"},
		{"PATCH", "/api/devices/demo-oven", "devices"},
		{"POST", "/api/devices/demo-oven/rpc", "commands"},
	} {
		p := api.call(c.method, c.path, map[string]any{"enabled": false}).Want(403)
		e := decodeJSON[apiErr](t, p)
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
	api.call("GET", "/api/categories", nil).Want(401)
	w.Post("/tokens/importer/revoke", nil).Want(404)
}

func TestAdminAPI(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	api := &apiClient{w: s.NewWebClient(t), token: s.MustToken(t, w, "robot")}

	t.Run("ErrUnauthorized", func(t *testing.T) {
		for _, token := range []string{"", "rcpd_not-a-token"} {
			p := (&apiClient{w: api.w, token: token}).call("GET", "/api/categories", nil).Want(401)
			if got := decodeJSON[apiErr](t, p).Error.Code; got != "unauthorized" {
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
		p := (&apiClient{w: api.w}).call("GET", "/api/openapi.json", nil).Want(200)
		doc := decodeJSON[map[string]any](t, p)
		if doc["openapi"] != "3.1.0" {
			t.Errorf("openapi = %v", doc["openapi"])
		}
	})

	// Categories.
	cats := decodeJSON[struct{ Items []recipes.CategoryInfo }](t, api.call("GET", "/api/categories", nil).Want(200))
	if len(cats.Items) != 10 || cats.Items[0].Slug != "soups" || cats.Items[0].Recipes != 13 {
		t.Fatalf("categories %+v", cats.Items)
	}
	p := api.call("POST", "/api/categories", recipes.Category{Slug: "Bad Slug", Name: ""}).Want(400)
	e := decodeJSON[apiErr](t, p)
	if e.Error.Code != "invalid" || len(e.Error.Fields) != 2 || e.Error.Fields[0].Field != "slug" || e.Error.Fields[1].Field != "name" {
		t.Fatalf("validation error %+v", e)
	}
	api.call("POST", "/api/categories", "{not json").Want(400)
	api.call("POST", "/api/categories", recipes.Category{Slug: "soups", Name: "Again"}).Want(400)
	p = api.call("POST", "/api/categories", recipes.Category{Slug: "salads", Name: "Salads"}).Want(201)
	if c := decodeJSON[recipes.CategoryInfo](t, p); c.Status != recipes.Unpublished || p.Header.Get("Location") != "/api/categories/salads" {
		t.Fatalf("created %+v at %q", c, p.Header.Get("Location"))
	}
	name := "Green salads"
	p = api.call("PATCH", "/api/categories/salads", recipes.CategoryUpdate{Name: &name}).Want(200)
	if c := decodeJSON[recipes.CategoryInfo](t, p); c.Name != name {
		t.Fatalf("patched %+v", c)
	}
	api.call("PATCH", "/api/categories/nope", recipes.CategoryUpdate{Name: &name}).Want(404)
	api.call("GET", "/api/categories/nope", nil).Want(404)
	api.call("GET", "/api/categories/salads", nil).Want(200)

	// Recipes.
	r := testRecipe("caesar", "salads", "Caesar salad")
	bad := r
	bad.Steps = []recipes.Step{{Text: "Bake.", TemperatureC: new(200)}}
	e = decodeJSON[apiErr](t, api.call("POST", "/api/recipes", bad).Want(400))
	if len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "steps[0].temperature_c" {
		t.Fatalf("validation error %+v", e)
	}
	p = api.call("POST", "/api/recipes", r).Want(201)
	if got := decodeJSON[apiRecipeJSON](t, p); got.Status != recipes.Unpublished || got.Title != r.Title {
		t.Fatalf("created %+v", got)
	}
	api.call("POST", "/api/recipes", r).Want(400) // id taken
	page := decodeJSON[recipes.RecipePage](t, api.call("GET", "/api/categories/salads/recipes", nil).Want(200))
	if page.Total != 1 || page.Items[0].ID != "caesar" {
		t.Fatalf("list %+v", page)
	}
	page = decodeJSON[recipes.RecipePage](t, api.call("GET", "/api/categories/soups/recipes?q=soup&offset=9&limit=2", nil).Want(200))
	if page.Total != 11 || len(page.Items) != 2 { // not gazpacho, not minestrone
		t.Fatalf("filtered page: total %d, %d items", page.Total, len(page.Items))
	}
	api.call("GET", "/api/categories/soups/recipes?limit=1000", nil).Want(400)
	api.call("GET", "/api/categories/nope/recipes", nil).Want(404)

	r.Title = "Caesar salad, classic"
	api.call("PUT", "/api/recipes/caesar", r).Want(200)
	api.call("PUT", "/api/recipes/other-id", r).Want(400)
	api.call("PUT", "/api/recipes/nope", testRecipe("nope", "salads", "Nope")).Want(404)
	if got := decodeJSON[apiRecipeJSON](t, api.call("GET", "/api/recipes/caesar", nil).Want(200)); got.Title != r.Title {
		t.Fatalf("saved %+v", got)
	}

	// Publish: the category comes with the recipe.
	pub := decodeJSON[recipes.Publication](t, api.call("POST", "/api/recipes/caesar/publish", nil).Want(200))
	if len(pub.Categories) != 1 || len(pub.Recipes) != 1 {
		t.Fatalf("publication %+v", pub)
	}
	if rep := s.MustAsk(t, "recipes/salads/caesar"); rep.Status != 200 {
		t.Fatalf("published recipe: %v", rep)
	}
	r.Title = "Caesar salad, changed"
	api.call("PUT", "/api/recipes/caesar", r).Want(200)
	if got := decodeJSON[apiRecipeJSON](t, api.call("POST", "/api/recipes/caesar/discard", nil).Want(200)); got.Status != recipes.Published {
		t.Fatalf("after discard %+v", got)
	}
	api.call("PUT", "/api/recipes/caesar", r).Want(200)
	pub = decodeJSON[recipes.Publication](t, api.call("POST", "/api/categories/salads/publish", nil).Want(200))
	if len(pub.Recipes) != 1 || len(pub.Categories) != 0 {
		t.Fatalf("category publication %+v", pub)
	}

	// Move, order, delete.
	api.call("POST", "/api/recipes/caesar/move", map[string]string{"category": "nope"}).Want(400)
	api.call("POST", "/api/recipes/caesar/move", map[string]string{"category": "soups"}).Want(200)
	if rep := s.MustAsk(t, "recipes/soups/caesar"); rep.Status != 200 {
		t.Fatalf("moved recipe: %v", rep)
	}
	order := []string{"salads"}
	for _, c := range cats.Items {
		order = append(order, c.Slug)
	}
	p = api.call("PUT", "/api/category-order", map[string][]string{"slugs": order}).Want(200)
	if got := decodeJSON[struct{ Items []recipes.CategoryInfo }](t, p); got.Items[0].Slug != "salads" {
		t.Fatalf("order %+v", got.Items[0])
	}
	api.call("PUT", "/api/category-order", map[string][]string{"slugs": order[1:]}).Want(400)
	e = decodeJSON[apiErr](t, api.call("DELETE", "/api/categories/soups", nil).Want(409))
	if e.Error.Code != "conflict" {
		t.Fatalf("delete a full category: %+v", e)
	}
	api.call("DELETE", "/api/categories/soups?delete_recipes=maybe", nil).Want(400)
	api.call("DELETE", "/api/categories/soups?move_to=salads", nil).Want(200)
	if rep := s.MustAsk(t, "recipes/salads/tomato-soup"); rep.Status != 200 {
		t.Fatalf("moved with its category: %v", rep)
	}
	api.call("DELETE", "/api/categories/desserts?delete_recipes=true", nil).Want(200)
	api.call("DELETE", "/api/recipes/caesar", nil).Want(204)
	api.call("DELETE", "/api/recipes/caesar", nil).Want(404)
	api.call("GET", "/api/recipes/caesar", nil).Want(404)
	api.call("POST", "/api/recipes/caesar/publish", nil).Want(404)
	api.call("GET", "/api/no-such-thing", nil).Want(404)
	api.call("POST", "/api/categories", map[string]string{"slug": "x"}).Want(400)
}

// apiRecipeJSON is a recipe as the API returns it.
type apiRecipeJSON struct {
	recipes.Recipe
	Status recipes.Status `json:"status"`
}

func TestUserAndTokenCommands(t *testing.T) {
	s := MustRunMain(t)
	store := []string{"-redis-url", s.Config.RedisURL}
	cli := func(env map[string]string, args ...string) (code int, stdout, stderr string) {
		var out, errOut bytes.Buffer
		code = run(context.Background(), append(args, store...), func(k string) string { return env[k] }, &out, &errOut)
		return code, strings.TrimSpace(out.String()), errOut.String()
	}
	t.Run("UserAdd", func(t *testing.T) {
		code, pw, stderr := cli(nil, "user", "add", "alice")
		if code != 0 || len(pw) < 20 {
			t.Fatalf("exit %d, password %q, stderr %s", code, pw, stderr)
		}
		s.NewWebClient(t).SignIn("alice", pw).Want(303)
		if code, _, _ := cli(nil, "user", "add", "alice"); code != exitFailure {
			t.Errorf("duplicate user: exit %d", code)
		}
		if code, _, stderr := cli(map[string]string{"RECIPESD_PASSWORD": "short"}, "user", "add", "bob"); code != exitUsage || !strings.Contains(stderr, "at least 10 characters") {
			t.Errorf("short password: exit %d %s", code, stderr)
		}
		if code, _, _ := cli(nil, "user", "add", "Bad Name"); code != exitUsage {
			t.Errorf("bad name: exit %d", code)
		}
	})
	t.Run("UserPasswd", func(t *testing.T) {
		w := s.NewWebClient(t)
		w.SignIn("alice", mustCLIPassword(t, cli, "bob-pass-123456", "user", "add", "bob")).Want(401)
		w.SignIn("bob", "bob-pass-123456").Want(303)
		code, _, stderr := cli(map[string]string{"RECIPESD_PASSWORD": "new-pass-123456"}, "user", "passwd", "bob")
		if code != 0 {
			t.Fatalf("passwd: exit %d %s", code, stderr)
		}
		w.Get("/categories").Want(303) // signed out everywhere
		s.NewWebClient(t).SignIn("bob", "new-pass-123456").Want(303)
		if code, _, _ := cli(nil, "user", "passwd", "nobody"); code != exitFailure {
			t.Errorf("unknown user: exit %d", code)
		}
		if _, out, _ := cli(nil, "user", "list"); !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
			t.Errorf("list: %s", out)
		}
	})
	t.Run("Token", func(t *testing.T) {
		code, secret, stderr := cli(nil, "token", "add", "ci")
		if code != 0 || !strings.HasPrefix(secret, "rcpd_") {
			t.Fatalf("exit %d, %q, %s", code, secret, stderr)
		}
		api := &apiClient{w: s.NewWebClient(t), token: secret}
		api.call("GET", "/api/categories", nil).Want(200)
		api.call("GET", "/api/devices", nil).Want(403) // catalog only, by default
		if _, out, _ := cli(nil, "token", "list", "-json"); !strings.Contains(out, `"name": "ci"`) || strings.Contains(out, "hash") {
			t.Errorf("list: %s", out)
		}
		code, fleet, stderr := cli(nil, "token", "add", "fleet", "-scopes", "devices, commands")
		if code != 0 {
			t.Fatalf("add -scopes: exit %d, %s", code, stderr)
		}
		fleetAPI := &apiClient{w: api.w, token: fleet}
		fleetAPI.call("GET", "/api/devices", nil).Want(200)
		fleetAPI.call("GET", "/api/categories", nil).Want(403)
		if _, out, _ := cli(nil, "token", "list"); !strings.Contains(out, "devices,commands") {
			t.Errorf("list shows no scopes: %s", out)
		}
		if code, _, stderr := cli(nil, "token", "add", "root", "-scopes", "everything"); code != exitUsage || !strings.Contains(stderr, `"everything" is not a scope (catalog, devices, commands, metrics)`) {
			t.Errorf("bad scope: exit %d, %s", code, stderr)
		}
		if code, _, _ := cli(nil, "token", "revoke", "ci"); code != 0 {
			t.Fatalf("revoke: exit %d", code)
		}
		api.call("GET", "/api/categories", nil).Want(401)
		if code, _, _ := cli(nil, "token", "revoke", "ci"); code != exitFailure {
			t.Errorf("revoke again: exit %d", code)
		}
		if code, _, _ := cli(nil, "token", "frobnicate", "ci"); code != exitUsage {
			t.Errorf("unknown action: exit %d", code)
		}
	})
}

func mustCLIPassword(t *testing.T, cli func(map[string]string, ...string) (int, string, string), pw string, args ...string) string {
	t.Helper()
	if code, out, stderr := cli(map[string]string{"RECIPESD_PASSWORD": pw}, args...); code != 0 || out != "" {
		t.Fatalf("%v: exit %d, stdout %q, %s", args, code, out, stderr)
	}
	return "wrong-for-alice"
}
