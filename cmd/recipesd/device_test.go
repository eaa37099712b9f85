package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cmd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
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

// TestDeviceAuthentication: PROTOCOL.md §1 — client ID = username = device
// ID, password = its secret; everything else is refused with CONNACK 0x86.
func TestDeviceAuthentication(t *testing.T) {
	s := MustRunMain(t)
	ctx := context.Background()
	good := s.MustRegister(t, "good-oven", "CM-100")
	other := s.MustRegister(t, "other-oven", "CM-100")
	disabled := s.MustRegister(t, "disabled-oven", "CM-100")
	if err := s.Identity.SetDeviceEnabled(ctx, "disabled-oven", false); err != nil {
		t.Fatal(err)
	}
	deleted := s.MustRegister(t, "deleted-oven", "CM-100")
	if err := s.Identity.DeleteDevice(ctx, "deleted-oven"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    appliance.Options
		want byte
	}{
		{"OK", appliance.Options{ID: "good-oven", Password: good}, 0},
		{"ErrWrongSecret", appliance.Options{ID: "good-oven", Password: good[:len(good)-1] + "x"}, 0x86},
		{"ErrOtherDevicesSecret", appliance.Options{ID: "good-oven", Password: other}, 0x86},
		{"ErrNoPassword", appliance.Options{ID: "good-oven"}, 0x86},
		{"ErrNoCredentials", appliance.Options{ID: "good-oven", Anonymous: true}, 0x86},
		{"ErrUnknownDevice", appliance.Options{ID: "stranger", Password: good}, 0x86},
		{"ErrDisabled", appliance.Options{ID: "disabled-oven", Password: disabled}, 0x86},
		{"ErrDeleted", appliance.Options{ID: "deleted-oven", Password: deleted}, 0x86},
		// Its own valid credentials do not let a device use another's ID.
		{"ErrUsernameNotClientID", appliance.Options{ID: "good-oven", Username: "other-oven", Password: other}, 0x86},
		{"ErrClientIDNotUsername", appliance.Options{ID: "other-oven", Username: "good-oven", Password: good}, 0x86},
		{"ErrInvalidClientID", appliance.Options{ID: "good+oven", Password: good}, 0x85},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dialResult(t, s, tt.o); got != tt.want {
				t.Fatalf("CONNACK reason 0x%02x, want 0x%02x", got, tt.want)
			}
		})
	}
	if got := s.Responder.Stats().AuthRefused; got != int64(len(tests)-1) {
		t.Errorf("AuthRefused = %d, want %d", got, len(tests)-1)
	}

	t.Run("RotatedSecret", func(t *testing.T) {
		fresh, err := s.Identity.RotateDeviceSecret(ctx, "good-oven")
		if err != nil {
			t.Fatal(err)
		}
		if got := dialResult(t, s, appliance.Options{ID: "good-oven", Password: good}); got != 0x86 {
			t.Fatalf("old secret: 0x%02x, want 0x86", got)
		}
		if got := dialResult(t, s, appliance.Options{ID: "good-oven", Password: fresh}); got != 0 {
			t.Fatalf("new secret: 0x%02x, want success", got)
		}
	})
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

// TestStoreDownRefusesWithServerUnavailable: a device must not be told its
// secret is wrong (0x86) when the registry cannot be asked.
func TestStoreDownRefusesWithServerUnavailable(t *testing.T) {
	s := MustRunMain(t)
	secret := s.MustRegister(t, "oven-1", "CM-100")
	s.Redis.Close()
	t.Cleanup(func() { _ = s.Redis.Restart() })
	start := time.Now()
	if got := dialResult(t, s, appliance.Options{ID: "oven-1", Password: secret}); got != 0x88 {
		t.Fatalf("CONNACK 0x%02x, want 0x88 (server unavailable)", got)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("refusal took %v", took)
	}
}

// TestTakeoverWithWrongSecretLeavesVictimConnected: authentication comes
// before mochi looks for the session of that client ID, so a connection
// that claims a connected device's ID cannot kick it off.
func TestTakeoverWithWrongSecretLeavesVictimConnected(t *testing.T) {
	s := MustRunMain(t)
	victim := s.MustDial(t, appliance.Options{ID: "victim"})
	attackerSecret := s.MustRegister(t, "attacker", "CM-100")
	baseline := goroutines()
	for _, o := range []appliance.Options{
		{ID: "victim", Password: "guessed"},
		{ID: "victim", Password: attackerSecret},
		{ID: "victim", Username: "attacker", Password: attackerSecret},
		{ID: "victim", Anonymous: true},
	} {
		if got := dialResult(t, s, o); got != 0x86 {
			t.Fatalf("takeover %+v: CONNACK 0x%02x, want 0x86", o, got)
		}
	}
	select {
	case <-victim.Done():
		t.Fatal("the victim was disconnected")
	case <-time.After(100 * time.Millisecond):
	}
	if r, err := victim.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("victim after takeover attempts: %v %v", r, err)
	}
	if got := s.Responder.Stats().Connected; got != 1 {
		t.Fatalf("connected = %d, want 1", got)
	}
	goroutinesBack(t, baseline)
}

// TestModelFromRegistryFiltersRecipes: what a device sees depends on the
// model it is registered with, never on what it asks.
func TestModelFromRegistryFiltersRecipes(t *testing.T) {
	s := MustRunMain(t)
	const onlyBig = "french-onion-soup" // CM-300X only in the demo catalog
	if r, err := s.Store.Recipe(context.Background(), onlyBig); err != nil || !equalStrings(r.Models, []string{"CM-300X"}) {
		t.Fatalf("demo recipe %s: models %v, %v; the test needs a CM-300X-only recipe", onlyBig, r.Models, err)
	}
	small := s.MustDial(t, appliance.Options{ID: "small-oven", Password: s.MustRegister(t, "small-oven", "CM-100")})
	big := s.MustDial(t, appliance.Options{ID: "big-oven", Password: s.MustRegister(t, "big-oven", "CM-300X")})
	ctx := testContext(t, 10*time.Second)

	r, err := small.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + onlyBig})
	if err != nil || r.Status != 404 || !strings.Contains(r.Error.Message, onlyBig) {
		t.Fatalf("CM-100 asking for %s: %v %v, want 404 naming it", onlyBig, r, err)
	}
	if r, err := big.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + onlyBig}); err != nil || r.Status != 200 {
		t.Fatalf("CM-300X asking for %s: %v %v", onlyBig, r, err)
	}
	for _, tt := range []struct {
		dev  *appliance.Client
		want bool
	}{{small, false}, {big, true}} {
		// A model in the request is an unknown field: ignored.
		payload := []byte(`{"limit":100,"model":"CM-300X"}`)
		r, err := tt.dev.Ask(ctx, appliance.Request{Topic: "recipes/soups", Payload: payload})
		if err != nil || r.Status != 200 {
			t.Fatal(r, err)
		}
		var page struct{ Items []recipes.Summary }
		if err := json.Unmarshal(r.Data, &page); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range page.Items {
			found = found || it.ID == onlyBig
		}
		if found != tt.want {
			t.Errorf("%s lists %s: %t, want %t", tt.dev.ID, onlyBig, found, tt.want)
		}
	}

	// A model change applies from the device's next connection.
	if err := s.Identity.SetDeviceModel(context.Background(), "small-oven", "CM-300X"); err != nil {
		t.Fatal(err)
	}
	_ = small.Close()
	small = s.MustDial(t, appliance.Options{ID: "small-oven"})
	if r, err := small.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + onlyBig}); err != nil || r.Status != 200 {
		t.Fatalf("after the model change: %v %v", r, err)
	}
}

func equalStrings(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestAnonymousMode: only behind the flag, devices without credentials are
// admitted and see everything; credentials that are given are still checked.
func TestAnonymousMode(t *testing.T) {
	s := MustRunMain(t, func(c *Config) { c.AllowAnonymous = true })
	anon := s.MustDial(t, appliance.Options{ID: "anon-oven", Anonymous: true})
	ctx := testContext(t, 5*time.Second)
	if r, err := anon.Ask(ctx, appliance.Request{Topic: "recipes/soups/french-onion-soup"}); err != nil || r.Status != 200 {
		t.Fatalf("anonymous device: %v %v", r, err)
	}
	secret := s.MustRegister(t, "small-oven", "CM-100")
	if got := dialResult(t, s, appliance.Options{ID: "small-oven", Password: "wrong"}); got != 0x86 {
		t.Fatalf("wrong secret in anonymous mode: 0x%02x, want 0x86", got)
	}
	small := s.MustDial(t, appliance.Options{ID: "small-oven", Password: secret})
	if r, err := small.Ask(ctx, appliance.Request{Topic: "recipes/soups/french-onion-soup"}); err != nil || r.Status != 404 {
		t.Fatalf("registered CM-100 in anonymous mode: %v %v, want 404", r, err)
	}
	if got := tryCommand(s.MQTTAddr, true, ""); strings.Contains(got, " -P ") {
		t.Errorf("try command in anonymous mode has a password: %s", got)
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
	if err != nil || d.Model != demoDeviceModel {
		t.Fatalf("demo device after restart: %+v %v", d, err)
	}
}

// TestLastSeen: connecting and disconnecting are recorded, in batches.
func TestLastSeen(t *testing.T) {
	s := MustRunMain(t)
	before := time.Now().Add(-time.Second)
	dev := s.MustDial(t, appliance.Options{ID: "seen-oven"})
	_ = dev.Close()
	if err := s.Responder.Close(context.Background()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	d, err := s.Identity.Device(context.Background(), "seen-oven")
	if err != nil {
		t.Fatal(err)
	}
	if d.LastSeen.Before(before) || d.LastSeen.After(time.Now()) {
		t.Fatalf("LastSeen = %v, want just now", d.LastSeen)
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
		{"OKDisable", []string{"device", "disable", "spare-oven"}, exitOK, `"spare-oven" disabled`},
		{"OKDelete", []string{"device", "delete", "spare-oven"}, exitOK, `"spare-oven" deleted`},
	} {
		t.Run(tt.name, func(t *testing.T) {
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
