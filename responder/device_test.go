package responder_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// TestDeviceAuthentication: PROTOCOL.md §1 — client ID = username = device
// ID, password = its secret; everything else is refused with CONNACK 0x86.
func TestDeviceAuthentication(t *testing.T) {
	s := mustServe(t)
	ctx := context.Background()
	good := s.MustRegister(t, "good-oven", "CM-100")
	other := s.MustRegister(t, "other-oven", "CM-100")
	disabled := s.MustRegister(t, "disabled-oven", "CM-100")
	if err := s.Registry.SetDeviceEnabled(ctx, "disabled-oven", false); err != nil {
		t.Fatal(err)
	}
	deleted := s.MustRegister(t, "deleted-oven", "CM-100")
	if err := s.Registry.DeleteDevice(ctx, "deleted-oven"); err != nil {
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
			if got := s.dialResult(t, tt.o); got != tt.want {
				t.Fatalf("CONNACK reason 0x%02x, want 0x%02x", got, tt.want)
			}
		})
	}
	if got := s.Responder.Stats().AuthRefused; got != int64(len(tests)-1) {
		t.Errorf("AuthRefused = %d, want %d", got, len(tests)-1)
	}

	t.Run("RotatedSecret", func(t *testing.T) {
		fresh, err := s.Registry.RotateDeviceSecret(ctx, "good-oven")
		if err != nil {
			t.Fatal(err)
		}
		if got := s.dialResult(t, appliance.Options{ID: "good-oven", Password: good}); got != 0x86 {
			t.Fatalf("old secret: 0x%02x, want 0x86", got)
		}
		if got := s.dialResult(t, appliance.Options{ID: "good-oven", Password: fresh}); got != 0 {
			t.Fatalf("new secret: 0x%02x, want success", got)
		}
	})
}

// TestStoreDownRefusesWithServerUnavailable: a device must not be told its
// secret is wrong (0x86) when the registry cannot be asked.
func TestStoreDownRefusesWithServerUnavailable(t *testing.T) {
	s := mustServe(t)
	secret := s.MustRegister(t, "oven-1", "CM-100")
	s.Redis.Close()
	t.Cleanup(func() { _ = s.Redis.Restart() })
	start := time.Now()
	if got := s.dialResult(t, appliance.Options{ID: "oven-1", Password: secret}); got != 0x88 {
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
	s := mustServe(t)
	victim := s.MustDial(t, appliance.Options{ID: "victim"})
	attackerSecret := s.MustRegister(t, "attacker", "CM-100")
	baseline := goroutines()
	for _, o := range []appliance.Options{
		{ID: "victim", Password: "guessed"},
		{ID: "victim", Password: attackerSecret},
		{ID: "victim", Username: "attacker", Password: attackerSecret},
		{ID: "victim", Anonymous: true},
	} {
		if got := s.dialResult(t, o); got != 0x86 {
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
	s := mustServe(t)
	const onlyBig = "french-onion-soup" // CM-300X only in the demo catalog
	if r, _, err := s.Catalog.EditorRecipe(context.Background(), onlyBig); err != nil || !equalStrings(r.Models, []string{"CM-300X"}) {
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
	if err := s.Registry.SetDeviceModel(context.Background(), "small-oven", "CM-300X"); err != nil {
		t.Fatal(err)
	}
	_ = small.Close()
	small = s.MustDial(t, appliance.Options{ID: "small-oven"})
	if r, err := small.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + onlyBig}); err != nil || r.Status != 200 {
		t.Fatalf("after the model change: %v %v", r, err)
	}
}

func equalStrings(a, b []string) bool { return strings.Join(a, "\x00") == strings.Join(b, "\x00") }

// TestAnonymousMode: only with AllowAnonymous, devices without credentials are
// admitted and see everything; credentials that are given are still checked.
func TestAnonymousMode(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.AllowAnonymous = true })
	anon := s.MustDial(t, appliance.Options{ID: "anon-oven", Anonymous: true})
	ctx := testContext(t, 5*time.Second)
	if r, err := anon.Ask(ctx, appliance.Request{Topic: "recipes/soups/french-onion-soup"}); err != nil || r.Status != 200 {
		t.Fatalf("anonymous device: %v %v", r, err)
	}
	secret := s.MustRegister(t, "small-oven", "CM-100")
	if got := s.dialResult(t, appliance.Options{ID: "small-oven", Password: "wrong"}); got != 0x86 {
		t.Fatalf("wrong secret in anonymous mode: 0x%02x, want 0x86", got)
	}
	small := s.MustDial(t, appliance.Options{ID: "small-oven", Password: secret})
	if r, err := small.Ask(ctx, appliance.Request{Topic: "recipes/soups/french-onion-soup"}); err != nil || r.Status != 404 {
		t.Fatalf("registered CM-100 in anonymous mode: %v %v, want 404", r, err)
	}
}

// TestLastSeen: connecting and disconnecting are recorded, in batches.
func TestLastSeen(t *testing.T) {
	s := mustServe(t)
	before := time.Now().Add(-time.Second)
	dev := s.MustDial(t, appliance.Options{ID: "seen-oven"})
	_ = dev.Close()
	if err := s.Responder.Close(context.Background()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	d, err := s.Registry.Device(context.Background(), "seen-oven")
	if err != nil {
		t.Fatal(err)
	}
	if d.LastSeen.Before(before) || d.LastSeen.After(time.Now()) {
		t.Fatalf("LastSeen = %v, want just now", d.LastSeen)
	}
}
