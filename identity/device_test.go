package identity_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

func TestAddDevice(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		env := newEnv(t)
		s := env.Open(t)
		ctx := context.Background()
		before := time.Now().Add(-time.Second)
		secret, err := s.AddDevice(ctx, "oven-1", "CM-100")
		if err != nil {
			t.Fatal(err)
		}
		if len(secret) < 40 {
			t.Fatalf("secret %q is too short to be 256 random bits", secret)
		}
		d, err := s.Device(ctx, "oven-1")
		if err != nil {
			t.Fatal(err)
		}
		want := recipes.Device{ID: "oven-1", Model: "CM-100", Enabled: true}
		if diff := cmp.Diff(want, d, cmpopts.IgnoreFields(recipes.Device{}, "CreatedAt")); diff != "" {
			t.Fatalf("Device (-want +got):\n%s", diff)
		}
		if d.CreatedAt.Before(before) || d.CreatedAt.After(time.Now()) {
			t.Fatalf("CreatedAt = %v, want about now", d.CreatedAt)
		}
		// Only a hash is stored: the secret appears nowhere in Redis.
		for _, k := range env.RDB.Keys(ctx, "{"+env.Prefix+"}:*").Val() {
			if strings.Contains(dumpKey(t, env, k), secret) {
				t.Fatalf("key %s holds the secret in clear", k)
			}
		}
	})
	t.Run("ErrConflict", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, err := s.AddDevice(context.Background(), "oven-1", "CM-100"); err != nil {
			t.Fatal(err)
		}
		_, err := s.AddDevice(context.Background(), "oven-1", "CM-200")
		assertCode(t, err, recipes.ECONFLICT, `device "oven-1" already exists`)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := MustOpenStore(t)
		for _, tt := range []struct{ id, model, field string }{
			{"", "CM-100", "id"},
			{"a/b", "CM-100", "id"},
			{"a+b", "CM-100", "id"},
			{"#", "CM-100", "id"},
			{"$SYS", "CM-100", "id"},
			{"-lead", "CM-100", "id"},
			{"sp ace", "CM-100", "id"},
			{strings.Repeat("a", 129), "CM-100", "id"},
			{"oven", "CM-999", "model"},
			{"oven", "", "model"},
		} {
			_, err := s.AddDevice(context.Background(), tt.id, tt.model)
			var ve *recipes.ValidationError
			if !errors.As(err, &ve) || ve.Field(tt.field) == "" {
				t.Errorf("AddDevice(%q, %q) = %v, want a problem with %s", tt.id, tt.model, err, tt.field)
			}
		}
	})
}

// TestRegisterDeviceLocale: a locale is stored in its canonical form and
// comes back with the device, from every read; a tag that is none is
// refused with the reason, and nothing is registered.
func TestRegisterDeviceLocale(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		ctx := context.Background()
		secret, err := s.RegisterDevice(ctx, recipes.Device{ID: "oven-1", Model: "CM-100", Locale: "de-at"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.Device(ctx, "oven-1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := d.Locale, "de-AT"; got != want {
			t.Fatalf("Locale = %q, want %q", got, want)
		}
		if got := mustAuthenticate(t, s, "oven-1", secret).Locale; got != "de-AT" {
			t.Fatalf("authenticated Locale = %q, want de-AT", got)
		}
		if _, err := s.AddDevice(ctx, "oven-2", "CM-100"); err != nil {
			t.Fatal(err)
		}
		if d, err := s.Device(ctx, "oven-2"); err != nil || d.Locale != "" {
			t.Fatalf("device without a locale: %+v, %v", d, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s := MustOpenStore(t)
		ctx := context.Background()
		for _, tt := range []struct{ locale, want string }{
			{"de_AT!", `"de_AT!" is not a BCP 47 language tag`},
			{"x-private", `"x-private" names no language`},
			{"und", `"und" names no language`},
			{strings.Repeat("a", 40), "longer than 35 characters"},
		} {
			_, err := s.RegisterDevice(ctx, recipes.Device{ID: "oven-1", Model: "CM-100", Locale: tt.locale})
			var ve *recipes.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(ve.Field("locale"), tt.want) {
				t.Errorf("RegisterDevice(locale %q) = %v, want a locale problem containing %q", tt.locale, err, tt.want)
			}
		}
		if _, err := s.Device(ctx, "oven-1"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
			t.Fatalf("a refused device was registered: %v", err)
		}
	})
}

func dumpKey(tb testing.TB, env *testEnv, key string) string {
	tb.Helper()
	ctx := context.Background()
	switch env.RDB.Type(ctx, key).Val() {
	case "hash":
		var b strings.Builder
		for k, v := range env.RDB.HGetAll(ctx, key).Val() {
			b.WriteString(k + "=" + v + "\n")
		}
		return b.String()
	case "set":
		return strings.Join(env.RDB.SMembers(ctx, key).Val(), "\n")
	case "string":
		return env.RDB.Get(ctx, key).Val()
	}
	return ""
}

func TestAuthenticateDevice(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	secret, err := s.AddDevice(ctx, "oven-1", "CM-300")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDevice(ctx, "oven-2", "CM-100"); err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		d, err := s.AuthenticateDevice(ctx, "oven-1", secret)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != "oven-1" || d.Model != "CM-300" || !d.Enabled {
			t.Fatalf("device = %+v", d)
		}
	})
	for _, tt := range []struct{ name, id, secret string }{
		{"ErrWrongSecret", "oven-1", secret + "x"},
		{"ErrEmptySecret", "oven-1", ""},
		{"ErrOtherDevicesSecret", "oven-2", secret},
		{"ErrUnknownDevice", "oven-3", secret},
		{"ErrInvalidID", "a/b", secret},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AuthenticateDevice(ctx, tt.id, tt.secret)
			if !errors.Is(err, recipes.ErrBadDeviceCredentials) {
				t.Fatalf("err = %v, want ErrBadDeviceCredentials", err)
			}
		})
	}
	t.Run("ErrDisabled", func(t *testing.T) {
		if err := s.SetDeviceEnabled(ctx, "oven-1", false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateDevice(ctx, "oven-1", secret); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
			t.Fatalf("disabled device: err = %v", err)
		}
		if err := s.SetDeviceEnabled(ctx, "oven-1", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateDevice(ctx, "oven-1", secret); err != nil {
			t.Fatalf("re-enabled device: %v", err)
		}
	})
	t.Run("Rotate", func(t *testing.T) {
		fresh, err := s.RotateDeviceSecret(ctx, "oven-1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateDevice(ctx, "oven-1", secret); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
			t.Fatalf("old secret after rotation: %v", err)
		}
		if _, err := s.AuthenticateDevice(ctx, "oven-1", fresh); err != nil {
			t.Fatalf("new secret: %v", err)
		}
	})
}

func TestDeviceUpdates(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	if _, err := s.AddDevice(ctx, "oven-1", "CM-100"); err != nil {
		t.Fatal(err)
	}
	t.Run("OKModel", func(t *testing.T) {
		if err := s.SetDeviceModel(ctx, "oven-1", "CM-300X"); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.Device(ctx, "oven-1"); d.Model != "CM-300X" {
			t.Fatalf("model = %q", d.Model)
		}
	})
	t.Run("ErrInvalidModel", func(t *testing.T) {
		assertCode(t, s.SetDeviceModel(ctx, "oven-1", "toaster"), recipes.EINVALID, "")
	})
	for name, f := range map[string]func(id string) error{
		"Rotate":  func(id string) error { _, err := s.RotateDeviceSecret(ctx, id); return err },
		"Enable":  func(id string) error { return s.SetDeviceEnabled(ctx, id, true) },
		"Model":   func(id string) error { return s.SetDeviceModel(ctx, id, "CM-100") },
		"Delete":  func(id string) error { return s.DeleteDevice(ctx, id) },
		"Device":  func(id string) error { _, err := s.Device(ctx, id); return err },
		"Disable": func(id string) error { return s.SetDeviceEnabled(ctx, id, false) },
	} {
		t.Run("ErrNotFound"+name, func(t *testing.T) {
			assertCode(t, f("no-such-oven"), recipes.ENOTFOUND, `device "no-such-oven" not found`)
		})
	}
	t.Run("ErrNotFoundLeavesNothing", func(t *testing.T) {
		devs, err := s.Devices(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(devs) != 1 || devs[0].ID != "oven-1" {
			t.Fatalf("devices = %+v, want only oven-1 (a failed update must not create one)", devs)
		}
	})
}

func TestDevicesListAndDelete(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	for _, id := range []string{"oven-c", "oven-a", "oven-b"} {
		if _, err := s.AddDevice(ctx, id, "CM-200"); err != nil {
			t.Fatal(err)
		}
	}
	seen := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	if err := s.TouchDevices(ctx, map[string]time.Time{"oven-b": seen}); err != nil {
		t.Fatal(err)
	}
	devs, err := s.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, d.ID)
	}
	if diff := cmp.Diff([]string{"oven-a", "oven-b", "oven-c"}, got); diff != "" {
		t.Fatalf("Devices order (-want +got):\n%s", diff)
	}
	if !devs[1].LastSeen.Equal(seen) || !devs[0].LastSeen.IsZero() {
		t.Fatalf("LastSeen = %v / %v, want %v / zero", devs[1].LastSeen, devs[0].LastSeen, seen)
	}

	if err := s.DeleteDevice(ctx, "oven-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Device(ctx, "oven-b"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("deleted device: %v", err)
	}
	// The id can be registered again, with a clean slate.
	secret, err := s.AddDevice(ctx, "oven-b", "CM-100")
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.AuthenticateDevice(ctx, "oven-b", secret)
	if err != nil || d.Model != "CM-100" || !d.LastSeen.IsZero() {
		t.Fatalf("re-added device: %+v, %v", d, err)
	}
}

func TestDeviceWritesKeepETags(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	if _, err := s.Sync(ctx, []recipes.Category{category("soups", 1)}, nil, catalog.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Version(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDevice(ctx, "oven-1", "CM-100"); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchDevices(ctx, map[string]time.Time{"oven-1": time.Now()}); err != nil {
		t.Fatal(err)
	}
	if after, _ := s.Version(ctx); after != v {
		t.Fatalf("catalog version %d -> %d: device writes must not invalidate content", v, after)
	}
}

func TestDevicesEmbeddedSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := mustOpenEmbedded(t, dir)
	secret, err := s.AddDevice(context.Background(), "oven-1", "CM-100")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpenEmbedded(t, dir)
	if _, err := s.AuthenticateDevice(context.Background(), "oven-1", secret); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}
