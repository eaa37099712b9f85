package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// dialResult connects with o and returns the CONNACK reason code (0 on
// success), closing the connection again.
func dialResult(tb testing.TB, s *testServer, o appliance.Options) byte {
	tb.Helper()
	o.Addr = s.MQTTAddr
	c, err := appliance.Dial(testContext(tb, 5*time.Second), o)
	if err == nil {
		_ = c.Close()
		return 0
	}
	if c == nil || c.Connack == nil {
		tb.Fatalf("dial %s: %v (no CONNACK)", o.ID, err)
	}
	return c.Connack.ReasonCode
}

// TestDisconnectDevice: a registry change that must end a session —
// here made by the CLI, a separate store client of the same Redis, as ops
// would — ends it at once with DISCONNECT 0x98, not at its next CONNECT;
// other devices keep being answered.
func TestDisconnectDevice(t *testing.T) {
	s := MustRunMain(t)
	dev := s.MustDial(t, appliance.Options{ID: "kicked"})
	other := s.MustDial(t, appliance.Options{})
	var stderr bytes.Buffer
	env := func(string) string { return "" }
	if code := run(context.Background(), []string{"device", "disable", "kicked", "-redis-url", "redis://" + s.Redis.Addr()}, env, io.Discard, &stderr); code != exitOK {
		t.Fatalf("device disable: exit %d: %s", code, stderr.String())
	}
	mustBeKicked(t, dev)
	if s.Responder.Disconnect("kicked") || s.Responder.Disconnect("never-seen") {
		t.Fatal("Disconnect of a device that is not connected reports true")
	}
	if got := dialResult(t, s, appliance.Options{ID: "kicked", Password: s.secrets["kicked"]}); got != 0x86 {
		t.Fatalf("disabled device reconnecting: 0x%02x, want 0x86", got)
	}
	if r, err := other.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("other device: %v %v", r, err)
	}
	// Responder.Disconnect, which the revocation calls, on its own.
	if !s.Responder.Disconnect(other.ID) {
		t.Fatal("Disconnect reports the connected device was not connected")
	}
	mustBeKicked(t, other)
}

// TestDeviceLocaleFromCLI: a locale set by the CLI, a store client of its
// own, ends the device's session on the running server, so that its next
// connection, and every request on it, wants the new language.
func TestDeviceLocaleFromCLI(t *testing.T) {
	s := MustRunMain(t)
	dev := s.MustDial(t, appliance.Options{ID: "polyglot"})
	var stderr bytes.Buffer
	env := func(string) string { return "" }
	if code := run(context.Background(), []string{"device", "locale", "polyglot", "-locale", "fr", "-redis-url", "redis://" + s.Redis.Addr()}, env, io.Discard, &stderr); code != exitOK {
		t.Fatalf("device locale: exit %d: %s", code, stderr.String())
	}
	mustBeKicked(t, dev)
	if d, err := s.Identity.Device(context.Background(), "polyglot"); err != nil || d.Locale != "fr" {
		t.Fatalf("after the CLI: %+v, %v; want locale fr", d, err)
	}
	dev = s.MustDial(t, appliance.Options{ID: "polyglot", Password: s.secrets["polyglot"]})
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("reconnected: %v %v", r, err)
	}
}

// TestDemoDevice: the first start registers the demo device and its secret
// (shown once) works; a restart keeps it and does not show it again.
func TestDemoDevice(t *testing.T) {
	dir := t.TempDir()
	embedded := func(c *Config) { c.RedisURL, c.DataDir = "", dir }
	s := MustRunMain(t, embedded)
	secret := s.demoSecret
	if secret == "" {
		t.Fatal("no demo device secret on the first start")
	}
	cmd := tryCommand(s.MQTTAddr, false, s.SecretsFile)
	if !strings.Contains(cmd, "-i demo-oven -u demo-oven -P ") || strings.Contains(cmd, secret) {
		t.Fatalf("try command %q does not read the demo credentials from the secrets file", cmd)
	}
	dev := s.MustDial(t, appliance.Options{ID: "demo-oven", Password: secret})
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatal(r, err)
	}
	_ = dev.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = MustRunMain(t, embedded)
	if s.demoSecret != "" {
		t.Fatal("the demo secret was issued again on a restart")
	}
	if got := tryCommand(s.MQTTAddr, false, ""); !strings.Contains(got, "-P '<its secret>'") {
		t.Fatalf("try command without the secret: %s", got)
	}
	dev = s.MustDial(t, appliance.Options{ID: "demo-oven", Password: secret})
	_ = dev.Close()
	d, err := s.Identity.Device(context.Background(), "demo-oven")
	if err != nil || d.Model != seed.DemoDeviceModel {
		t.Fatalf("demo device after restart: %+v %v", d, err)
	}
}

// TestTryCommandAnonymous: when devices connect anonymously, the command
// printed at start gives no password (the responder's side of anonymous
// mode is responder's TestAnonymousMode).
func TestTryCommandAnonymous(t *testing.T) {
	if got := tryCommand("127.0.0.1:1883", true, ""); strings.Contains(got, " -P ") {
		t.Errorf("try command in anonymous mode has a password: %s", got)
	}
}

// TestDeviceCommand drives "recipesd device" against a data directory and
// then connects with the secret it printed.
func TestDeviceCommand(t *testing.T) {
	dir := t.TempDir()
	env := func(string) string { return "" }
	cli := func(args ...string) (code int, stdout, stderr string) {
		var out, errb bytes.Buffer
		code = run(context.Background(), append(args, "-data-dir", dir), env, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, secret, msg := cli("device", "add", "cli-oven", "-model", "CM-200")
	secret = strings.TrimSpace(secret)
	if code != exitOK || len(secret) < 40 || strings.Contains(secret, "\n") {
		t.Fatalf("add: exit %d, stdout %q, stderr %q; want the secret alone on stdout", code, secret, msg)
	}
	if !strings.Contains(msg, "cannot be shown again") {
		t.Errorf("add: stderr %q does not warn that the secret is shown once", msg)
	}
	if code, _, _ := cli("device", "add", "spare-oven", "-model", "CM-100"); code != exitOK {
		t.Fatalf("add spare: exit %d", code)
	}

	for _, tt := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"ErrExists", []string{"device", "add", "cli-oven", "-model", "CM-200"}, exitFailure, `device "cli-oven" already exists`},
		{"ErrNoModel", []string{"device", "add", "x-oven"}, exitUsage, "-model is required"},
		{"ErrBadModel", []string{"device", "add", "x-oven", "-model", "toaster"}, exitUsage, "not a known appliance model"},
		{"ErrBadID", []string{"device", "add", "x/oven", "-model", "CM-100"}, exitUsage, "must be 1 to 128"},
		{"ErrNotFound", []string{"device", "disable", "no-oven"}, exitFailure, `device "no-oven" not found`},
		{"ErrNoAction", []string{"device"}, exitUsage, "missing action"},
		{"ErrBadAction", []string{"device", "paint", "cli-oven"}, exitUsage, `unknown action "paint"`},
		{"ErrNoID", []string{"device", "rotate"}, exitUsage, "takes 1 device ID"},
		{"ErrModelNoModel", []string{"device", "model", "spare-oven"}, exitUsage, "device model: -model is required"},
		{"ErrModelBad", []string{"device", "model", "spare-oven", "-model", "toaster"}, exitUsage, `"toaster" is not a known appliance model`},
		{"ErrModelNotFound", []string{"device", "model", "no-oven", "-model", "CM-100"}, exitFailure, `device "no-oven" not found`},
		{"OKModel", []string{"device", "model", "spare-oven", "-model", "CM-300"}, exitOK, `"spare-oven" is now a CM-300`},
		{"OKLocale", []string{"device", "locale", "spare-oven", "-locale", "de-at"}, exitOK, `"spare-oven" speaks de-AT`},
		{"OKLocaleClear", []string{"device", "locale", "spare-oven", "-locale", ""}, exitOK, `"spare-oven" speaks the catalog's default language`},
		{"ErrLocaleNoLocale", []string{"device", "locale", "spare-oven"}, exitUsage, "device locale: -locale is required"},
		{"ErrLocaleBad", []string{"device", "locale", "spare-oven", "-locale", "de_AT!"}, exitUsage, `locale "de_AT!" is not a BCP 47 language tag`},
		{"ErrLocaleNotFound", []string{"device", "locale", "no-oven", "-locale", "de"}, exitFailure, `device "no-oven" not found`},
		{"ErrLocaleElsewhere", []string{"device", "model", "spare-oven", "-model", "CM-300", "-locale", "de"}, exitUsage, "-locale is for add and locale only"},
		{"ErrAddBadLocale", []string{"device", "add", "x-oven", "-model", "CM-100", "-locale", "und"}, exitUsage, `"und" names no language`},
		{"OKAddLocale", []string{"device", "add", "fr-oven", "-model", "CM-100", "-locale", "fr-ca"}, exitOK, `device "fr-oven" added`},
		{"OKDeleteAdded", []string{"device", "delete", "fr-oven"}, exitOK, `"fr-oven" deleted`},
		{"OKDisable", []string{"device", "disable", "spare-oven"}, exitOK, `"spare-oven" disabled`},
		{"OKDelete", []string{"device", "delete", "spare-oven"}, exitOK, `"spare-oven" deleted`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "OKDeleteAdded" {
				// Before it goes: fr-oven was stored as fr-CA.
				code, out, _ := cli("device", "list")
				if code != exitOK || !regexp.MustCompile(`fr-oven\s+CM-100\s+fr-CA\s`).MatchString(out) {
					t.Fatalf("list: exit %d, want fr-oven with locale fr-CA:\n%s", code, out)
				}
			}
			code, _, stderr := cli(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.code, tt.msg)
			}
		})
	}

	code, out, _ := cli("device", "list", "-json")
	var devs []recipes.Device
	if err := json.Unmarshal([]byte(out), &devs); code != exitOK || err != nil {
		t.Fatalf("list: exit %d, %v: %s", code, err, out)
	}
	if len(devs) != 1 || devs[0].ID != "cli-oven" || devs[0].Model != "CM-200" || !devs[0].Enabled {
		t.Fatalf("list = %+v, want just cli-oven", devs)
	}
	if strings.Contains(out, secret) {
		t.Fatal("list shows the secret")
	}
	if code, out, _ := cli("device", "list"); code != exitOK || !strings.Contains(out, "cli-oven") || !strings.Contains(out, "CM-200") {
		t.Fatalf("list as a table: exit %d: %s", code, out)
	}

	// The server on that directory admits the device with the printed secret.
	s := MustRunMain(t, func(c *Config) { c.RedisURL, c.DataDir = "", dir })
	s.MustDial(t, appliance.Options{ID: "cli-oven", Password: secret})
	// While it runs, the directory is locked and the command says so.
	code, _, stderr := cli("device", "list")
	if code != exitLocked || !strings.Contains(stderr, "running server") {
		t.Fatalf("list while the server runs: exit %d, %q", code, stderr)
	}
}
