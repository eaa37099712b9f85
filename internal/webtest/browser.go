package webtest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// MustStartBrowser starts a headless Chromium with a fresh profile and
// returns a tab of it, or skips the test when there is none on the machine.
func MustStartBrowser(tb testing.TB) *Browser {
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
	return &Browser{TB: tb, Ctx: ctx}
}

// ArtifactDir is where tests keep their screenshots: $RECIPESD_ARTIFACTS,
// or testdata/artifacts at the top of the repository (ignored by git).
func ArtifactDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("RECIPESD_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(moduleRoot(tb), "testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// moduleRoot is the directory of go.mod above the test's own.
func moduleRoot(tb testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// Browser is a tab with the helpers tests need.
type Browser struct {
	TB  testing.TB
	Ctx context.Context
}

// Do runs steps, failing the test on an error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.TB.Helper()
	if err := chromedp.Do(b.Ctx, steps...); err != nil {
		b.TB.Fatalf("browser: %v", err)
	}
}

// Submit clicks sel and waits for the page it leads to; it returns that
// page's HTTP status.
func (b *Browser) Submit(sel string) int64 {
	b.TB.Helper()
	resp, err := chromedp.RunResponse(b.Ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.TB.Fatalf("click %s: %v", sel, err)
	}
	return resp.Status
}

// Text returns the text of sel, trimmed.
func (b *Browser) Text(sel string) string {
	b.TB.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.TB.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Value returns the value of the field sel.
func (b *Browser) Value(sel string) string {
	b.TB.Helper()
	s, err := chromedp.Run(b.Ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.TB.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// Fill replaces the value of the field sel by typing v.
func (b *Browser) Fill(sel, v string) {
	b.TB.Helper()
	// SetValue cannot set "": chromedp drops empty arguments.
	js, _ := json.Marshal(sel)
	b.Do(chromedp.Evaluate[chromedp.Void]("document.querySelector("+string(js)+").value = ''"), chromedp.SendKeys(chromedp.CSS(sel), v))
}

// Screenshot keeps the whole page as name in [ArtifactDir].
func (b *Browser) Screenshot(name string) string {
	b.TB.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.TB.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(ArtifactDir(b.TB), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.TB.Fatal(err)
	}
	b.TB.Logf("screenshot: %s", path)
	return path
}

// SignIn signs in to the server at base and lands on the categories.
func (b *Browser) SignIn(base, name, password string) {
	b.TB.Helper()
	b.Do(chromedp.Navigate(base + "/categories"))
	b.Do(chromedp.WaitVisible(chromedp.ID("password")))
	b.Do(chromedp.SendKeys(chromedp.ID("name"), name), chromedp.SendKeys(chromedp.ID("password"), password))
	if st := b.Submit(".login button[type=submit]"); st != 200 {
		b.TB.Fatalf("sign in: status %d", st)
	}
	if got := b.Text("h1"); got != "Categories" {
		b.TB.Fatalf("after sign-in the page is %q", got)
	}
}
