package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
)

// The admin UI driven in a real headless Chromium, as an editor would use
// it, down to the appliance that fetches the edited recipe over MQTT.

// MustStartBrowser starts a headless Chromium with a fresh profile, or
// skips the test when there is none on the machine.
func MustStartBrowser(tb testing.TB) context.Context {
	tb.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		tb.Skip("no Chromium on PATH (CI installs Debian's chromium)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	tb.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser now, so that a broken installation fails here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		tb.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// artifactDir is where the test keeps its screenshots: $RECIPESD_ARTIFACTS,
// or testdata/artifacts at the top of the repository (ignored by git).
func artifactDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("RECIPESD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// browser is a tab with the helpers the test needs.
type browser struct {
	tb  testing.TB
	ctx context.Context
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.tb.Fatalf("browser: %v", err)
	}
}

// submit clicks sel and waits for the page it leads to; it returns that
// page's HTTP status.
func (b *browser) submit(sel string) int64 {
	b.tb.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.tb.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

func (b *browser) text(sel string) string {
	b.tb.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.tb.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) value(sel string) string {
	b.tb.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.tb.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// fill replaces the value of the field sel by typing v.
func (b *browser) fill(sel, v string) {
	b.tb.Helper()
	// SetValue cannot set "": chromedp drops empty arguments.
	js, _ := json.Marshal(sel)
	b.do(chromedp.Evaluate[chromedp.Void]("document.querySelector("+string(js)+").value = ''"), chromedp.SendKeys(chromedp.CSS(sel), v))
}

func (b *browser) screenshot(name string) string {
	b.tb.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.tb.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(artifactDir(b.tb), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.tb.Fatal(err)
	}
	b.tb.Logf("screenshot: %s", path)
	return path
}

// signIn signs in as the first admin and lands on the categories.
func (b *browser) signIn(s *testServer) {
	b.tb.Helper()
	b.do(chromedp.Navigate(s.HTTPURL + "/categories"))
	b.do(chromedp.WaitVisible(chromedp.ID("password")))
	b.do(chromedp.SendKeys(chromedp.ID("name"), "admin"), chromedp.SendKeys(chromedp.ID("password"), testAdminPassword))
	if st := b.submit(".login button[type=submit]"); st != 200 {
		b.tb.Fatalf("sign in: status %d", st)
	}
	if got := b.text("h1"); got != "Categories" {
		b.tb.Fatalf("after sign-in the page is %q", got)
	}
}

// TestAdminDevicesInBrowser: staff register an appliance in the browser,
// the secret on the page connects it, and disabling it there ends its
// session.
func TestAdminDevicesInBrowser(t *testing.T) {
	ctx := MustStartBrowser(t)
	s := MustRunMain(t)
	b := &browser{tb: t, ctx: ctx}
	b.signIn(s)

	b.submit(`nav a[href="/devices"]`)
	b.do(chromedp.SendKeys(chromedp.ID("id"), "oven/7"), chromedp.SetValue(chromedp.ID("model"), "CM-300"))
	if st := b.submit(`form.form button.primary`); st != 422 {
		t.Fatalf("registering a bad id: status %d, want 422", st)
	}
	if got := b.text("#id-error"); !strings.Contains(got, `"oven/7" must be 1 to 128 letters`) {
		t.Errorf("error next to the id: %q", got)
	}
	if got := b.value("#model"); got != "CM-300" {
		t.Errorf("the form forgot the model: %q", got)
	}
	b.fill("#id", "oven-7")
	if st := b.submit(`form.form button.primary`); st != 200 {
		t.Fatalf("register: status %d", st)
	}
	secret := b.text("#device-secret")
	b.screenshot("admin-device-registered.png")
	dev := s.MustDial(t, appliance.Options{ID: "oven-7", Password: secret})
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("the registered device asks: %v %v", r, err)
	}

	b.do(chromedp.Navigate(s.HTTPURL + "/devices/oven-7"))
	if got := b.text("h1"); !strings.Contains(strings.ToLower(got), "connected") {
		t.Errorf("device page h1 %q, want it marked connected", got)
	}
	b.submit(`form[action="/devices/oven-7/disable"] button`)
	mustBeKicked(t, dev)
	if got := b.text(".flash"); !strings.Contains(got, "oven-7 is disabled") {
		t.Errorf("flash %q", got)
	}
	b.submit(`.crumbs a[href="/devices"]`)
	if got := b.text("#devices tbody"); !strings.Contains(got, "oven-7\tCM-300\tDISABLED") {
		t.Errorf("device list %q", got)
	}
	b.screenshot("admin-devices.png")

	// A token for a fleet tool: devices only, ticked in the form.
	b.submit(`nav a[href="/tokens"]`)
	b.do(chromedp.SendKeys(chromedp.ID("name"), "fleet-tool"),
		chromedp.Click(chromedp.CSS(`input[name=scope][value=catalog]`)), // ticked by default
		chromedp.Click(chromedp.CSS(`input[name=scope][value=devices]`)))
	if st := b.submit(`form.form button.primary`); st != 200 {
		t.Fatalf("create token: status %d", st)
	}
	api := &apiClient{w: s.NewWebClient(t), token: b.text("#token-secret")}
	api.call("GET", "/api/devices", nil).Want(200)
	api.call("GET", "/api/categories", nil).Want(403)
	if got := b.text("table.list tbody"); !strings.Contains(got, "fleet-tool\tdevices") {
		t.Errorf("token list %q", got)
	}
	b.screenshot("admin-tokens.png")
}

func TestAdminInBrowser(t *testing.T) {
	ctx := MustStartBrowser(t)
	s := MustRunMain(t)
	b := &browser{tb: t, ctx: ctx}
	opened := chromedp.Events(ctx, page.JavascriptDialogOpening) // subscribes now
	dialogs := make(chan string, 1)
	go func() {
		for ev, err := range opened {
			if err != nil {
				return
			}
			dialogs <- ev.Message
		}
	}()

	b.signIn(s)

	// Create a category; the script fills the slug from the name.
	b.submit(`a[href="/categories/new"]`)
	b.do(chromedp.SendKeys(chromedp.ID("name"), "Weekend brunch"))
	if got := b.value("#slug"); got != "weekend-brunch" {
		t.Errorf("slug suggested %q", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("description"), "Slow mornings, eggs and pancakes."))
	b.submit(`form.form button.primary`)
	if got := b.text("h1"); !strings.HasPrefix(got, "Weekend brunch") {
		t.Fatalf("category page h1 %q", got)
	}
	if got := b.text(".flash"); !strings.Contains(got, "Category “Weekend brunch” created") {
		t.Errorf("flash %q", got)
	}

	// Add a recipe with a mistake: 200 °C is more than the appliance does.
	b.submit(`a[href="/categories/weekend-brunch/recipes/new"]`)
	b.do(chromedp.SendKeys(chromedp.ID("title"), "Shakshuka"))
	b.fill("#total_minutes", "35")
	b.fill(`[name="ingredients[0].name"]`, "eggs")
	b.fill(`[name="ingredients[0].quantity"]`, "6")
	b.fill(`[name="ingredients[1].name"]`, "tomatoes, chopped")
	b.fill(`[name="ingredients[1].quantity"]`, "800")
	b.do(chromedp.SetValue(chromedp.CSS(`[name="ingredients[1].unit"]`), "g"))
	b.fill(`[name="steps[0].text"]`, "Simmer the tomatoes with the spices.")
	b.fill(`[name="steps[0].minutes"]`, "15")
	b.fill(`[name="steps[0].temperature_c"]`, "200")
	b.fill(`[name="steps[1].text"]`, "Crack in the eggs and cook until set.")
	if st := b.submit("#save"); st != 422 {
		t.Fatalf("saving the mistake: status %d, want 422", st)
	}
	if got := b.text(".error-summary"); !strings.Contains(got, "Step 1, temperature: must be between 37 and 160 °C, not 200") {
		t.Errorf("error summary %q", got)
	}
	if got := b.text(`.step .invalid .field-error`); got != "must be between 37 and 160 °C, not 200" {
		t.Errorf("error next to the temperature: %q", got)
	}
	if got := b.value(`[name="ingredients[1].name"]`); got != "tomatoes, chopped" {
		t.Errorf("the form forgot an ingredient: %q", got)
	}

	// Fix it and save: a draft, which appliances do not see.
	b.fill(`[name="steps[0].temperature_c"]`, "110")
	if st := b.submit("#save"); st != 200 {
		t.Fatalf("save: status %d", st)
	}
	if got := b.text(".flash"); !strings.Contains(got, "Saved “Shakshuka” as a draft") {
		t.Errorf("flash %q", got)
	}
	if r := s.MustAsk(t, "recipes/weekend-brunch/shakshuka"); r.Status != 404 {
		t.Fatalf("appliance sees a draft: %v", r)
	}

	// Publish, then an appliance fetches it over MQTT.
	b.submit("#publish")
	if got := b.text(".flash"); !strings.Contains(got, "Published 1 category and 1 recipe") {
		t.Errorf("flash %q", got)
	}
	first := s.MustAsk(t, "recipes/weekend-brunch/shakshuka")
	got := decodeRecipe(t, first)
	if got.Title != "Shakshuka" || *got.Steps[0].TemperatureC != 110 || got.Ingredients[1].Unit != "g" {
		t.Fatalf("appliance got %+v", got)
	}

	// Edit and publish again: the next request gets the edit, new ETag.
	b.fill("#title", "Shakshuka with feta")
	b.submit("#publish")
	second := s.MustAsk(t, "recipes/weekend-brunch/shakshuka")
	if got := decodeRecipe(t, second); got.Title != "Shakshuka with feta" || second.ETag == first.ETag {
		t.Fatalf("after the edit: %q, etag %s (was %s)", got.Title, second.ETag, first.ETag)
	}

	// The category page, as an editor sees it, kept as an artifact.
	b.submit(`.crumbs a[href="/categories/weekend-brunch"]`)
	if got := b.text("table.list tbody"); !strings.Contains(got, "Shakshuka with feta") || !strings.Contains(strings.ToLower(got), "published") {
		t.Errorf("recipe list %q", got)
	}
	b.screenshot("admin-category.png")

	// A hostile name is text everywhere, never a script.
	b.submit(`a[href="/categories"]`)
	b.submit(`a[href="/categories/new"]`)
	b.do(chromedp.SendKeys(chromedp.ID("name"), "<script>alert(1)</script>"), chromedp.SetValue(chromedp.ID("slug"), "xss"))
	b.submit(`form.form button.primary`)
	if got := b.text("h1"); !strings.HasPrefix(got, "<script>alert(1)</script>") {
		t.Errorf("h1 %q", got)
	}
	b.submit(`a[href="/categories"]`)
	b.screenshot("admin-categories.png")
	select {
	case msg := <-dialogs:
		t.Fatalf("a script ran and opened a dialog: %q", msg)
	default:
	}
}

// decodeRecipe decodes the recipe of a 200 reply.
func decodeRecipe(tb testing.TB, r interface{ String() string }) recipes.Recipe {
	tb.Helper()
	var v struct {
		Status int            `json:"status"`
		Data   recipes.Recipe `json:"data"`
	}
	if err := json.Unmarshal([]byte(strings.SplitN(r.String(), " ", 2)[1]), &v); err != nil || v.Status != 200 {
		tb.Fatalf("reply %s: %v", r, err)
	}
	return v.Data
}
