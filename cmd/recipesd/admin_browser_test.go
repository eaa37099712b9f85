package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
)

// The admin UI driven in a real headless Chromium, down to the appliance
// it registers connecting over MQTT and being disconnected.

// TestAdminDevicesInBrowser: staff register an appliance in the browser,
// the secret on the page connects it, and disabling it there ends its
// session.
func TestAdminDevicesInBrowser(t *testing.T) {
	b := webtest.MustStartBrowser(t)
	s := MustRunMain(t)
	b.SignIn(s.HTTPURL, identity.FirstAdmin, testAdminPassword)

	b.Submit(`nav a[href="/devices"]`)
	b.Do(chromedp.SendKeys(chromedp.ID("id"), "oven/7"), chromedp.SetValue(chromedp.ID("model"), "CM-300"))
	if st := b.Submit(`form.form button.primary`); st != 422 {
		t.Fatalf("registering a bad id: status %d, want 422", st)
	}
	if got := b.Text("#id-error"); !strings.Contains(got, `"oven/7" must be 1 to 128 letters`) {
		t.Errorf("error next to the id: %q", got)
	}
	if got := b.Value("#model"); got != "CM-300" {
		t.Errorf("the form forgot the model: %q", got)
	}
	b.Fill("#id", "oven-7")
	if st := b.Submit(`form.form button.primary`); st != 200 {
		t.Fatalf("register: status %d", st)
	}
	secret := b.Text("#device-secret")
	b.Screenshot("admin-device-registered.png")
	dev := s.MustDial(t, appliance.Options{ID: "oven-7", Password: secret})
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("the registered device asks: %v %v", r, err)
	}

	b.Do(chromedp.Navigate(s.HTTPURL + "/devices/oven-7"))
	if got := b.Text("h1"); !strings.Contains(strings.ToLower(got), "connected") {
		t.Errorf("device page h1 %q, want it marked connected", got)
	}
	b.Submit(`form[action="/devices/oven-7/disable"] button`)
	mustBeKicked(t, dev)
	if got := b.Text(".flash"); !strings.Contains(got, "oven-7 is disabled") {
		t.Errorf("flash %q", got)
	}
	b.Submit(`.crumbs a[href="/devices"]`)
	if got := b.Text("#devices tbody"); !strings.Contains(got, "oven-7\tCM-300\tdefault\tDISABLED") {
		t.Errorf("device list %q", got)
	}
	b.Screenshot("admin-devices.png")

	// A token for a fleet tool: devices only, ticked in the form.
	b.Submit(`nav a[href="/tokens"]`)
	b.Do(chromedp.SendKeys(chromedp.ID("name"), "fleet-tool"),
		chromedp.Click(chromedp.CSS(`input[name=scope][value=catalog]`)), // ticked by default
		chromedp.Click(chromedp.CSS(`input[name=scope][value=devices]`)))
	if st := b.Submit(`form.form button.primary`); st != 200 {
		t.Fatalf("create token: status %d", st)
	}
	api := &webtest.API{W: s.NewWebClient(t), Token: b.Text("#token-secret")}
	api.Call("GET", "/api/devices", nil).Want(200)
	api.Call("GET", "/api/categories", nil).Want(403)
	if got := b.Text("table.list tbody"); !strings.Contains(got, "fleet-tool\tdevices") {
		t.Errorf("token list %q", got)
	}
	b.Screenshot("admin-tokens.png")
}
