package admin_test

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/recipes"
)

// Tests of the admin package over a fake store, for what the real one
// cannot be made to do. Handler tests against the real catalog start with
// MustStartServer (server_test.go); only admin's tests import catalog.

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fakeStore is an [admin.Store] made of function fields; a test sets the
// ones it expects to be called, and any other call fails the test.
type fakeStore struct {
	tb testing.TB

	EditorCategoriesFn  func(ctx context.Context) ([]recipes.CategoryInfo, error)
	EditorCategoryFn    func(ctx context.Context, slug string) (recipes.CategoryInfo, error)
	CreateCategoryFn    func(ctx context.Context, c recipes.Category) (recipes.Category, error)
	UpdateCategoryFn    func(ctx context.Context, slug string, u recipes.CategoryUpdate) (recipes.Category, error)
	RemoveCategoryFn    func(ctx context.Context, slug string, how recipes.CategoryRemoval) (int, error)
	EditorRecipesFn     func(ctx context.Context, slug string, f recipes.RecipeFilter) (recipes.RecipePage, error)
	EditorRecipeFn      func(ctx context.Context, id string) (recipes.Recipe, recipes.Status, error)
	CreateRecipeFn      func(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error)
	APITokensFn         func(ctx context.Context) ([]recipes.APIToken, error)
	AuthenticateStaffFn func(ctx context.Context, name, password string) (recipes.Staff, error)
	DeleteSessionFn     func(ctx context.Context, id string) error
	CreateSessionFn     func(ctx context.Context, sess recipes.Session, idle time.Duration) (string, error)
	APITokenFn          func(ctx context.Context, secret string) (recipes.APIToken, error)
	DeviceFn            func(ctx context.Context, id string) (recipes.Device, error)
}

var _ admin.Store = (*fakeStore)(nil)

func (f *fakeStore) missing(name string) error {
	f.tb.Helper()
	f.tb.Errorf("unexpected call of %s", name)
	return recipes.Errorf(recipes.EINTERNAL, "unexpected call of %s", name)
}

func (f *fakeStore) Ping(context.Context) error { return nil }
func (f *fakeStore) EditorCategories(ctx context.Context) ([]recipes.CategoryInfo, error) {
	if f.EditorCategoriesFn == nil {
		return nil, f.missing("EditorCategories")
	}
	return f.EditorCategoriesFn(ctx)
}
func (f *fakeStore) EditorCategory(ctx context.Context, slug string) (recipes.CategoryInfo, error) {
	if f.EditorCategoryFn == nil {
		return recipes.CategoryInfo{}, f.missing("EditorCategory")
	}
	return f.EditorCategoryFn(ctx, slug)
}
func (f *fakeStore) CreateCategory(ctx context.Context, c recipes.Category) (recipes.Category, error) {
	if f.CreateCategoryFn == nil {
		return c, f.missing("CreateCategory")
	}
	return f.CreateCategoryFn(ctx, c)
}
func (f *fakeStore) UpdateCategory(ctx context.Context, slug string, u recipes.CategoryUpdate) (recipes.Category, error) {
	if f.UpdateCategoryFn == nil {
		return recipes.Category{}, f.missing("UpdateCategory")
	}
	return f.UpdateCategoryFn(ctx, slug, u)
}
func (f *fakeStore) ReorderCategories(context.Context, []string) error {
	return f.missing("ReorderCategories")
}
func (f *fakeStore) RemoveCategory(ctx context.Context, slug string, how recipes.CategoryRemoval) (int, error) {
	if f.RemoveCategoryFn == nil {
		return 0, f.missing("RemoveCategory")
	}
	return f.RemoveCategoryFn(ctx, slug, how)
}
func (f *fakeStore) PublishCategory(context.Context, string) (recipes.Publication, error) {
	return recipes.Publication{}, f.missing("PublishCategory")
}
func (f *fakeStore) EditorRecipes(ctx context.Context, slug string, fl recipes.RecipeFilter) (recipes.RecipePage, error) {
	if f.EditorRecipesFn == nil {
		return recipes.RecipePage{}, f.missing("EditorRecipes")
	}
	return f.EditorRecipesFn(ctx, slug, fl)
}
func (f *fakeStore) EditorRecipe(ctx context.Context, id string) (recipes.Recipe, recipes.Status, error) {
	if f.EditorRecipeFn == nil {
		return recipes.Recipe{}, "", f.missing("EditorRecipe")
	}
	return f.EditorRecipeFn(ctx, id)
}
func (f *fakeStore) CreateRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error) {
	if f.CreateRecipeFn == nil {
		return r, f.missing("CreateRecipe")
	}
	return f.CreateRecipeFn(ctx, r)
}
func (f *fakeStore) SaveRecipe(_ context.Context, r recipes.Recipe) (recipes.Recipe, error) {
	return r, f.missing("SaveRecipe")
}
func (f *fakeStore) MoveRecipe(context.Context, string, string) error { return f.missing("MoveRecipe") }
func (f *fakeStore) DiscardRecipe(context.Context, string) error      { return f.missing("DiscardRecipe") }
func (f *fakeStore) RemoveRecipe(context.Context, string) error       { return f.missing("RemoveRecipe") }
func (f *fakeStore) Revisions(context.Context, string, string) ([]recipes.Revision, error) {
	return nil, nil // no history: the recipe page shows an empty card
}
func (f *fakeStore) Revision(context.Context, string, string, int64) (recipes.Revision, error) {
	return recipes.Revision{}, f.missing("Revision")
}
func (f *fakeStore) RestoreRecipe(context.Context, string, int64) (recipes.Recipe, error) {
	return recipes.Recipe{}, f.missing("RestoreRecipe")
}
func (f *fakeStore) PublishRecipe(context.Context, string) (recipes.Publication, error) {
	return recipes.Publication{}, f.missing("PublishRecipe")
}
func (f *fakeStore) AuthenticateStaff(ctx context.Context, name, password string) (recipes.Staff, error) {
	if f.AuthenticateStaffFn == nil {
		return recipes.Staff{}, f.missing("AuthenticateStaff")
	}
	return f.AuthenticateStaffFn(ctx, name, password)
}
func (f *fakeStore) CreateSession(ctx context.Context, sess recipes.Session, idle time.Duration) (string, error) {
	if f.CreateSessionFn == nil {
		return "", f.missing("CreateSession")
	}
	return f.CreateSessionFn(ctx, sess, idle)
}

// Session knows one session: the cookie value testSession.
func (f *fakeStore) Session(_ context.Context, id string, _ time.Duration) (recipes.Session, error) {
	if id != testSession {
		return recipes.Session{}, recipes.Errorf(recipes.ENOTFOUND, "session not found")
	}
	return recipes.Session{Staff: "editor", CreatedAt: time.Now()}, nil
}

// Staff knows the account of testSession, an admin as accounts made
// before roles are: it sees every page.
func (f *fakeStore) Staff(_ context.Context, name string) (recipes.Staff, error) {
	if name != "editor" {
		return recipes.Staff{}, recipes.Errorf(recipes.ENOTFOUND, "staff account %q not found", name)
	}
	return recipes.Staff{Name: name}, nil
}
func (f *fakeStore) StaffList(context.Context) ([]recipes.Staff, error) {
	return nil, f.missing("StaffList")
}
func (f *fakeStore) AddStaffAs(context.Context, string, string, string) (string, error) {
	return "", f.missing("AddStaffAs")
}
func (f *fakeStore) SetPassword(context.Context, string, string) (string, error) {
	return "", f.missing("SetPassword")
}
func (f *fakeStore) SetRole(context.Context, string, string) (recipes.Staff, error) {
	return recipes.Staff{}, f.missing("SetRole")
}
func (f *fakeStore) SetDisabled(context.Context, string, bool) (recipes.Staff, error) {
	return recipes.Staff{}, f.missing("SetDisabled")
}
func (f *fakeStore) DeleteSession(ctx context.Context, id string) error {
	if f.DeleteSessionFn == nil {
		return f.missing("DeleteSession")
	}
	return f.DeleteSessionFn(ctx, id)
}
func (f *fakeStore) APITokens(ctx context.Context) ([]recipes.APIToken, error) {
	if f.APITokensFn == nil {
		return nil, f.missing("APITokens")
	}
	return f.APITokensFn(ctx)
}
func (f *fakeStore) CreateAPIToken(context.Context, string, string, []string) (string, error) {
	return "", f.missing("CreateAPIToken")
}
func (f *fakeStore) APIToken(ctx context.Context, secret string) (recipes.APIToken, error) {
	if f.APITokenFn != nil {
		return f.APITokenFn(ctx, secret)
	}
	return recipes.APIToken{}, recipes.Errorf(recipes.ENOTFOUND, "API token not found")
}
func (f *fakeStore) RevokeAPIToken(context.Context, string) error { return f.missing("RevokeAPIToken") }

// The device registry is tested against the real store in cmd/recipesd.
func (f *fakeStore) DeviceIDs(context.Context) ([]string, error) { return nil, f.missing("DeviceIDs") }
func (f *fakeStore) DevicesByID(context.Context, []string) ([]recipes.Device, error) {
	return nil, f.missing("DevicesByID")
}
func (f *fakeStore) Device(ctx context.Context, id string) (recipes.Device, error) {
	if f.DeviceFn == nil {
		return recipes.Device{}, f.missing("Device")
	}
	return f.DeviceFn(ctx, id)
}
func (f *fakeStore) RegisterDevice(context.Context, recipes.Device) (string, error) {
	return "", f.missing("RegisterDevice")
}
func (f *fakeStore) RotateDeviceSecret(context.Context, string) (string, error) {
	return "", f.missing("RotateDeviceSecret")
}
func (f *fakeStore) UpdateDevice(context.Context, string, recipes.DeviceUpdate) (recipes.Device, error) {
	return recipes.Device{}, f.missing("UpdateDevice")
}
func (f *fakeStore) DeleteDevice(context.Context, string) error { return f.missing("DeleteDevice") }

const (
	testSession = "test-session-id"
	testCSRF    = "test-csrf-token-0123456789abcdef"
)

// MustServe returns the admin handler over store.
func MustServe(tb testing.TB, store *fakeStore, opts admin.Options) http.Handler {
	tb.Helper()
	store.tb = tb
	h, err := admin.New(store, opts).Handler()
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// request serves one request as the signed-in editor with a fixed CSRF
// token; a non-nil form is posted with that token.
func request(tb testing.TB, h http.Handler, method, path string, form url.Values) *httptest.ResponseRecorder {
	tb.Helper()
	var body io.Reader
	if form != nil {
		form.Set("_csrf", testCSRF)
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: "recipesd_session", Value: testSession})
	req.AddCookie(&http.Cookie{Name: "recipesd_csrf", Value: testCSRF})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var fixedTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

const evil = `<script>alert(1)</script>`

// evilStore is a catalog whose every name is a script.
func evilStore() *fakeStore {
	cat := recipes.CategoryInfo{
		Category: recipes.Category{Slug: "evil", Name: evil, Description: evil + " & more", Position: 10, UpdatedAt: fixedTime},
		Status:   recipes.Changed, Recipes: 1, Pending: 1,
	}
	other := recipes.CategoryInfo{
		Category: recipes.Category{Slug: "soups", Name: "Soups", Description: "Hot.", Position: 20, UpdatedAt: fixedTime},
		Status:   recipes.Published, Recipes: 13,
	}
	r := recipes.Recipe{
		ID: "evil-soup", Category: "evil", Title: evil, Summary: evil, Servings: 2, TotalMinutes: 10, Difficulty: recipes.Easy,
		Tags: []string{"<b>tag</b>"}, Ingredients: []recipes.Ingredient{{Name: evil, Quantity: 1, Unit: "g"}},
		Steps: []recipes.Step{{Text: evil}}, UpdatedAt: fixedTime,
	}
	return &fakeStore{
		EditorCategoriesFn: func(context.Context) ([]recipes.CategoryInfo, error) {
			return []recipes.CategoryInfo{cat, other}, nil
		},
		EditorCategoryFn: func(_ context.Context, slug string) (recipes.CategoryInfo, error) {
			if slug == "soups" {
				return other, nil
			}
			return cat, nil
		},
		EditorRecipesFn: func(context.Context, string, recipes.RecipeFilter) (recipes.RecipePage, error) {
			return recipes.RecipePage{Items: []recipes.RecipeInfo{{Summary: r.ToSummary(), Status: recipes.Unpublished}}, Total: 1}, nil
		},
		EditorRecipeFn: func(context.Context, string) (recipes.Recipe, recipes.Status, error) {
			return r, recipes.Changed, nil
		},
		CreateCategoryFn: func(_ context.Context, c recipes.Category) (recipes.Category, error) {
			return c, recipes.Errorf(recipes.ECONFLICT, "category %q clashes", c.Name)
		},
		RemoveCategoryFn: func(_ context.Context, slug string, _ recipes.CategoryRemoval) (int, error) {
			return 0, recipes.Errorf(recipes.ECONFLICT, "category %q still holds 1 recipes", evil)
		},
		APITokensFn: func(context.Context) ([]recipes.APIToken, error) {
			return []recipes.APIToken{{Name: "robot", CreatedBy: evil, CreatedAt: fixedTime}}, nil
		},
	}
}

func TestXSS(t *testing.T) {
	h := MustServe(t, evilStore(), admin.Options{})
	pages := []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/categories", nil},
		{"GET", "/categories/evil", nil},
		{"GET", "/categories/evil?q=" + url.QueryEscape(evil), nil},
		{"GET", "/categories/evil/edit", nil},
		{"GET", "/categories/evil/delete", nil},
		{"GET", "/categories/evil/recipes/new", nil},
		{"GET", "/recipes/evil-soup", nil},
		{"GET", "/recipes/evil-soup/delete", nil},
		{"GET", "/tokens", nil},
		{"GET", "/tokens/" + url.PathEscape(evil) + "/revoke", nil},
		{"POST", "/categories/new", url.Values{"name": {evil}, "slug": {"x"}, "description": {evil}}},
		{"POST", "/categories/evil/delete", url.Values{"recipes": {"move"}, "move_to": {evil}}},
		{"POST", "/categories/evil/recipes/new", url.Values{"title": {evil}, "id": {evil}, "tags": {evil}, "ingredients[0].name": {evil}, "ingredients[0].quantity": {evil}}},
		{"GET", "/login?next=" + url.QueryEscape(`"><script>alert(1)</script>`), nil},
	}
	for _, p := range pages {
		t.Run(p.method+" "+p.path, func(t *testing.T) {
			rec := request(t, h, p.method, p.path, p.form)
			body := rec.Body.String()
			if rec.Code >= 500 {
				t.Fatalf("status %d: %s", rec.Code, body)
			}
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<b>tag") {
				t.Fatalf("unescaped markup in:\n%s", body)
			}
			if p.path != "/login?next="+url.QueryEscape(`"><script>alert(1)</script>`) && !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("the name is not shown (escaped) at all:\n%s", body)
			}
		})
	}
	// A flash message carries the name into the next page.
	rec := request(t, h, "GET", "/categories", nil)
	rec2 := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/categories", nil)
	req.AddCookie(&http.Cookie{Name: "recipesd_session", Value: testSession})
	req.AddCookie(&http.Cookie{Name: "recipesd_flash", Value: url.QueryEscape(evil)})
	h.ServeHTTP(rec2, req)
	if rec.Code != 200 || strings.Contains(rec2.Body.String(), "<script>alert") || !strings.Contains(rec2.Body.String(), "&lt;script&gt;alert(1)") {
		t.Fatalf("flash message not escaped:\n%s", rec2.Body.String())
	}
}

func TestGolden(t *testing.T) {
	h := MustServe(t, evilStore(), admin.Options{})
	tests := []struct {
		name, method, path string
		form               url.Values
		status             int
	}{
		{"categories", "GET", "/categories", nil, 200},
		{"category", "GET", "/categories/evil", nil, 200},
		{"recipe_errors", "POST", "/categories/soups/recipes/new", url.Values{
			"title": {"Pumpkin soup"}, "servings": {"four"}, "total_minutes": {"30"}, "difficulty": {"easy"},
			"ingredients[0].name": {"pumpkin"}, "ingredients[0].quantity": {"-1"}, "ingredients[0].unit": {"kg"},
			"steps[0].text": {"Roast."}, "steps[0].temperature_c": {"220"}, "op": {"save"},
		}, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := request(t, h, tt.method, tt.path, tt.form)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tt.status, rec.Body)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./admin -run TestGolden -update)", err)
			}
			if diff := cmp.Diff(string(want), rec.Body.String()); diff != "" {
				t.Errorf("%s differs (-want +got); run with -update if the change is right:\n%s", golden, diff)
			}
		})
	}
}
