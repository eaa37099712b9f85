package identity_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

// secretHash is the stored form of secret, computed as a factory would:
// printf %s "$SECRET" | sha256sum.
func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func devRecord(id, model string, enabled bool, secret string) recipes.DeviceRecord {
	d := recipes.DeviceRecord{ID: id, Model: model, Enabled: &enabled}
	if secret != "" {
		d.SecretHash = secretHash(secret)
	}
	return d
}

// countDevices returns how many of changes have op.
func countDevices(changes []recipes.DeviceChange, op recipes.ChangeOp) int {
	n := 0
	for _, ch := range changes {
		if ch.Op == op {
			n++
		}
	}
	return n
}

func mustAuthenticate(tb testing.TB, s stores, id, secret string) recipes.Device {
	tb.Helper()
	d, err := s.AuthenticateDevice(context.Background(), id, secret)
	if err != nil {
		tb.Fatalf("AuthenticateDevice(%s): %v", id, err)
	}
	return d
}

func assertRefused(tb testing.TB, s stores, id, secret string) {
	tb.Helper()
	if _, err := s.AuthenticateDevice(context.Background(), id, secret); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
		tb.Fatalf("AuthenticateDevice(%s) = %v, want ErrBadDeviceCredentials", id, err)
	}
}

func TestSyncWithDevices(t *testing.T) {
	ctx := context.Background()
	cats, recs := syncFixture()

	// Devices with hashes authenticate with their secrets; content and
	// devices go in one write, which bumps the version once.
	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		v0 := mustVersion(t, s)
		devs := []recipes.DeviceRecord{devRecord("oven-1", "CM-300", true, "s3cret-1"), devRecord("oven-2", "CM-100", false, "s3cret-2")}
		changes, devChanges, err := s.SyncWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: devs}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if count(changes, "recipe", recipes.ItemAdded) != 20 {
			t.Errorf("changes %v; want 20 recipes added", changes)
		}
		want := []recipes.DeviceChange{{ID: "oven-1", Op: recipes.ItemAdded}, {ID: "oven-2", Op: recipes.ItemAdded}}
		if diff := cmp.Diff(want, devChanges); diff != "" {
			t.Errorf("device changes (-want +got):\n%s", diff)
		}
		if v := mustVersion(t, s); v != v0+1 {
			t.Errorf("version %d -> %d, want one bump", v0, v)
		}
		d := mustAuthenticate(t, s, "oven-1", "s3cret-1")
		if d.Model != "CM-300" || !d.Enabled || d.CreatedAt.IsZero() {
			t.Errorf("oven-1 = %+v", d)
		}
		assertRefused(t, s, "oven-1", "s3cret-2")
		assertRefused(t, s, "oven-2", "s3cret-2") // disabled
		if list, err := s.Devices(ctx); err != nil || len(list) != 2 {
			t.Errorf("Devices = %v, %v; want both listed", list, err)
		}
	})

	// Devices alone do not bump the version, and the same devices again
	// write nothing.
	t.Run("OKDevicesOnly", func(t *testing.T) {
		env := newEnv(t)
		s := env.Open(t)
		mustSync(t, s, cats, recs, false)
		v0 := mustVersion(t, s)
		devs := []recipes.DeviceRecord{devRecord("oven-1", "CM-300", true, "s3cret-1")}
		if _, _, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, nil); err != nil {
			t.Fatal(err)
		}
		if v := mustVersion(t, s); v != v0 {
			t.Errorf("version %d -> %d, want unchanged", v0, v)
		}
		before := env.Snapshot(t)
		changes, devChanges, err := s.SyncWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: devs, Update: true}, false, nil)
		if err != nil || len(changes) != 0 || len(devChanges) != 0 {
			t.Errorf("again: %v, %v, %v; want no changes", changes, devChanges, err)
		}
		if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
			t.Errorf("seeding the same again wrote (-before +after):\n%s", diff)
		}
	})

	// By default a registered device gets the model of the file and keeps
	// its secret and enabled flag, which staff may have changed since (a
	// leaked secret rotated, a stolen device disabled): each that differs
	// is reported as kept. New devices are added as the file says.
	t.Run("OKKeepRegistered", func(t *testing.T) {
		s := MustOpenStore(t)
		fleet := []recipes.DeviceRecord{
			devRecord("oven-1", "CM-100", true, "factory-1"),
			devRecord("oven-2", "CM-100", true, "factory-2"),
			devRecord("oven-3", "CM-100", true, "factory-3"),
		}
		if _, _, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: fleet}, false, nil); err != nil {
			t.Fatal(err)
		}
		rotated, err := s.RotateDeviceSecret(ctx, "oven-1")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetDeviceEnabled(ctx, "oven-2", false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDeviceEnabled(ctx, "oven-3", false); err != nil {
			t.Fatal(err)
		}
		v0 := mustVersion(t, s)
		devs := []recipes.DeviceRecord{
			fleet[0], // secret kept
			fleet[1], // left disabled
			devRecord("oven-3", "CM-300", true, "factory-3"),                 // model changed, left disabled
			devRecord("oven-4", "CM-300X", false, "new-4"),                   // added, disabled
			{ID: "oven-5", Model: "CM-200", SecretHash: secretHash("new-5")}, // added, enabled
		}
		want := []recipes.DeviceChange{
			{ID: "oven-1", KeptSecret: true},
			{ID: "oven-2", KeptEnabled: true},
			{ID: "oven-3", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-300", KeptEnabled: true},
			{ID: "oven-4", Op: recipes.ItemAdded},
			{ID: "oven-5", Op: recipes.ItemAdded},
		}
		_, planned, err := s.PlanWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, planned); diff != "" {
			t.Errorf("planned device changes (-want +got):\n%s", diff)
		}
		_, changes, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("device changes (-want +got):\n%s", diff)
		}
		mustAuthenticate(t, s, "oven-1", rotated)
		assertRefused(t, s, "oven-1", "factory-1")
		if d, err := s.Device(ctx, "oven-3"); err != nil || d.Model != "CM-300" {
			t.Errorf("oven-3 = %+v, %v; want model CM-300", d, err)
		}
		for id, want := range map[string]bool{"oven-2": false, "oven-3": false, "oven-4": false, "oven-5": true} {
			if d, err := s.Device(ctx, id); err != nil || d.Enabled != want {
				t.Errorf("%s = %+v, %v; want enabled %v", id, d, err, want)
			}
		}
		mustAuthenticate(t, s, "oven-5", "new-5")
		if v := mustVersion(t, s); v != v0 {
			t.Errorf("version %d -> %d, want unchanged", v0, v)
		}
	})

	// With Update, a registered device without a hash still keeps its
	// secret; a new hash replaces it; enabled, if given, is set; each
	// change is told precisely.
	t.Run("OKUpdate", func(t *testing.T) {
		s := MustOpenStore(t)
		kept, err := s.AddDevice(ctx, "oven-1", "CM-100")
		if err != nil {
			t.Fatal(err)
		}
		rotated, err := s.AddDevice(ctx, "oven-2", "CM-100")
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"oven-3", "oven-5"} {
			if _, err := s.AddDevice(ctx, id, "CM-200"); err != nil {
				t.Fatal(err)
			}
			if err := s.SetDeviceEnabled(ctx, id, false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.AddDevice(ctx, "oven-7", "CM-100"); err != nil {
			t.Fatal(err)
		}
		v0 := mustVersion(t, s)
		devs := []recipes.DeviceRecord{
			devRecord("oven-1", "CM-300", true, ""),                          // model changed, secret kept
			devRecord("oven-2", "CM-100", true, "new-2"),                     // rotated by file
			devRecord("oven-3", "CM-200", true, ""),                          // enabled by the file
			devRecord("oven-4", "CM-300X", true, "new-4"),                    // added
			{ID: "oven-5", Model: "CM-200"},                                  // left disabled: enabled not given
			{ID: "oven-6", Model: "CM-200", SecretHash: secretHash("new-6")}, // added, enabled
			devRecord("oven-7", "CM-200", false, "new-7"),                    // all at once
		}
		yes, no := true, false
		want := []recipes.DeviceChange{
			{ID: "oven-1", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-300"},
			{ID: "oven-2", Op: recipes.ItemChanged, NewSecret: true},
			{ID: "oven-3", Op: recipes.ItemChanged, Enabled: &yes},
			{ID: "oven-4", Op: recipes.ItemAdded},
			{ID: "oven-6", Op: recipes.ItemAdded},
			{ID: "oven-7", Op: recipes.ItemChanged, FromModel: "CM-100", Model: "CM-200", NewSecret: true, Enabled: &no},
		}
		_, changes, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs, Update: true}, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("device changes (-want +got):\n%s", diff)
		}
		if d := mustAuthenticate(t, s, "oven-1", kept); d.Model != "CM-300" {
			t.Errorf("oven-1 model %s, want CM-300", d.Model)
		}
		assertRefused(t, s, "oven-2", rotated)
		mustAuthenticate(t, s, "oven-2", "new-2")
		mustAuthenticate(t, s, "oven-4", "new-4")
		assertRefused(t, s, "oven-7", "new-7") // disabled
		for id, want := range map[string]bool{"oven-3": true, "oven-5": false, "oven-6": true, "oven-7": false} {
			if d, err := s.Device(ctx, id); err != nil || d.Enabled != want {
				t.Errorf("%s = %+v, %v; want enabled %v", id, d, err, want)
			}
		}
		if err := s.SetDeviceEnabled(ctx, "oven-7", true); err != nil {
			t.Fatal(err)
		}
		mustAuthenticate(t, s, "oven-7", "new-7")
		if v := mustVersion(t, s); v != v0 {
			t.Errorf("version %d -> %d, want unchanged", v0, v)
		}
	})

	// New devices without a hash get secrets, handed over before they are
	// stored.
	t.Run("OKIssue", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, err := s.AddDevice(ctx, "oven-1", "CM-100"); err != nil {
			t.Fatal(err)
		}
		devs := []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100"}, {ID: "oven-2", Model: "CM-200"}, {ID: "oven-3", Model: "CM-300"}}
		var issued map[string]string
		_, _, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, func(secrets map[string]string) error {
			if _, err := s.Device(ctx, "oven-2"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
				t.Errorf("oven-2 stored before its secret was handed over: %v", err)
			}
			issued = maps.Clone(secrets)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(issued)); !slices.Equal(got, []string{"oven-2", "oven-3"}) {
			t.Fatalf("secrets issued to %v, want oven-2 and oven-3", got)
		}
		for id, secret := range issued {
			if len(secret) < 40 {
				t.Errorf("%s: secret %q is too short", id, secret)
			}
			mustAuthenticate(t, s, id, secret)
		}
	})

	// A device command between planning and writing makes the sync start
	// again, handing over the secrets again: an id keeps its secret, and
	// one registered meanwhile gets none.
	t.Run("OKIssueRetry", func(t *testing.T) {
		s := MustOpenStore(t)
		var calls []map[string]string
		devs := []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100"}, {ID: "oven-2", Model: "CM-200"}}
		var other string
		_, _, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, func(secrets map[string]string) error {
			calls = append(calls, maps.Clone(secrets))
			if len(calls) == 1 {
				var err error
				if other, err = s.AddDevice(ctx, "oven-2", "CM-300"); err != nil {
					t.Error(err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 2 || len(calls[0]) != 2 || len(calls[1]) != 1 || calls[1]["oven-1"] != calls[0]["oven-1"] {
			t.Fatalf("calls %v; want both, then oven-1 with the same secret", calls)
		}
		mustAuthenticate(t, s, "oven-1", calls[1]["oven-1"])
		if d := mustAuthenticate(t, s, "oven-2", other); d.Model != "CM-200" {
			t.Errorf("oven-2 model %s, want CM-200 from the seed", d.Model)
		}
	})

	// A retry hands over the secrets again even when it issues none, so
	// that the last call holds exactly the secrets stored: here the only
	// new device is registered by staff between the attempts, and the
	// retry either changes its model or writes nothing at all.
	t.Run("OKIssueRetryNoneLeft", func(t *testing.T) {
		for _, model := range []string{"CM-300", "CM-100"} {
			t.Run(model, func(t *testing.T) {
				s := MustOpenStore(t)
				var calls []map[string]string
				var staff string
				devs := []recipes.DeviceRecord{{ID: "oven-7", Model: "CM-100"}}
				_, changes, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, func(secrets map[string]string) error {
					calls = append(calls, maps.Clone(secrets))
					if len(calls) == 1 {
						var err error
						if staff, err = s.AddDevice(ctx, "oven-7", model); err != nil {
							t.Error(err)
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(calls) != 2 || len(calls[0]) != 1 || calls[1] == nil || len(calls[1]) != 0 {
					t.Fatalf("calls %v; want oven-7's secret, then an empty set", calls)
				}
				assertRefused(t, s, "oven-7", calls[0]["oven-7"])
				if d := mustAuthenticate(t, s, "oven-7", staff); d.Model != "CM-100" {
					t.Errorf("oven-7 model %s, want CM-100 from the seed", d.Model)
				}
				if got := countDevices(changes, recipes.ItemAdded); got != 0 {
					t.Errorf("changes %v; want oven-7 not added", changes)
				}
			})
		}
	})

	// -prune leaves devices alone.
	t.Run("OKPrune", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, _, err := s.SyncWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: []recipes.DeviceRecord{devRecord("oven-1", "CM-300", true, "s1")}}, false, nil); err != nil {
			t.Fatal(err)
		}
		changes, devChanges, err := s.SyncWithDevices(ctx, cats[:1], recs[:1], recipes.DeviceImport{Devices: []recipes.DeviceRecord{devRecord("oven-2", "CM-300", true, "s2")}}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(devChanges) != 1 || devChanges[0].Op != recipes.ItemAdded || count(changes, "recipe", recipes.ItemRemoved) != 19 {
			t.Errorf("changes %v, %v", changes, devChanges)
		}
		mustAuthenticate(t, s, "oven-1", "s1")
		mustAuthenticate(t, s, "oven-2", "s2")
	})

	t.Run("OKPlan", func(t *testing.T) {
		env := newEnv(t)
		s := env.Open(t)
		if _, err := s.AddDevice(ctx, "oven-1", "CM-100"); err != nil {
			t.Fatal(err)
		}
		before := env.Snapshot(t)
		devs := []recipes.DeviceRecord{devRecord("oven-1", "CM-200", true, ""), {ID: "oven-2", Model: "CM-200"}}
		_, changes, err := s.PlanWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: devs}, false, true)
		if err != nil {
			t.Fatal(err)
		}
		if countDevices(changes, recipes.ItemAdded) != 1 || countDevices(changes, recipes.ItemChanged) != 1 {
			t.Errorf("changes %v", changes)
		}
		if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
			t.Errorf("Plan wrote (-before +after):\n%s", diff)
		}
		_, _, err = s.PlanWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: devs}, false, false)
		var ve *recipes.ValidationError
		if !errors.As(err, &ve) || ve.ID != "oven-2" || ve.Field("secret_hash") == "" {
			t.Errorf("Plan without issuing = %v, want a problem with oven-2's secret_hash", err)
		}
	})

	// Any problem leaves the store as it was, content and all.
	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name  string
			devs  []recipes.DeviceRecord
			issue func(map[string]string) error
			field string // of a *recipes.ValidationError; empty: another error
		}{
			{"NoHash", []recipes.DeviceRecord{devRecord("oven-1", "CM-100", true, "a"), {ID: "oven-2", Model: "CM-100"}}, nil, "secret_hash"},
			{"BadID", []recipes.DeviceRecord{devRecord("oven 1", "CM-100", true, "a")}, nil, "id"},
			{"BadModel", []recipes.DeviceRecord{devRecord("oven-1", "CM-900", true, "a")}, nil, "model"},
			{"BadHash", []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100", SecretHash: "sha256:abc"}}, nil, "secret_hash"},
			{"Twice", []recipes.DeviceRecord{devRecord("oven-1", "CM-100", true, "a"), devRecord("oven-1", "CM-200", true, "b")}, nil, ""},
			{"IssueFails", []recipes.DeviceRecord{{ID: "oven-2", Model: "CM-100"}}, func(map[string]string) error { return errors.New("disk full") }, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				env := newEnv(t)
				s := env.Open(t)
				if _, err := s.AddDevice(ctx, "oven-0", "CM-100"); err != nil {
					t.Fatal(err)
				}
				before := env.Snapshot(t)
				_, _, err := s.SyncWithDevices(ctx, cats, recs, recipes.DeviceImport{Devices: tt.devs}, false, tt.issue)
				var ve *recipes.ValidationError
				switch {
				case err == nil:
					t.Fatal("no error")
				case tt.field != "" && (!errors.As(err, &ve) || ve.Field(tt.field) == ""):
					t.Errorf("error %v, want a problem with %s", err, tt.field)
				case tt.field == "" && tt.issue == nil && recipes.ErrorCode(err) != recipes.EINVALID:
					t.Errorf("error %v, want EINVALID", err)
				case tt.issue != nil && !strings.Contains(err.Error(), "disk full"):
					t.Errorf("error %v, want the issue function's", err)
				}
				if diff := cmp.Diff(before, env.Snapshot(t)); diff != "" {
					t.Errorf("the store changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// TestSyncWithDevices_WriteFails: devices are written after the catalog;
// when their write fails the catalog keeps its changes, the error says
// what failed, and the secrets handed over are the ones to keep. Running
// the seed again, once the store is fixed, finishes it.
func TestSyncWithDevices_WriteFails(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	cats, recs := syncFixture()
	if err := env.RDB.Set(ctx, env.Key("devices"), "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var issued map[string]string
	issue := func(secrets map[string]string) error {
		issued = maps.Clone(secrets)
		return nil
	}
	imp := recipes.DeviceImport{Devices: []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100"}}}
	_, _, err := s.SyncWithDevices(ctx, cats, recs, imp, false, issue)
	if err == nil || !strings.Contains(err.Error(), "sync devices") || len(issued) != 1 {
		t.Fatalf("SyncWithDevices = %v after issuing %v; want the device write's error after 1 secret", err, issued)
	}
	if n := mustVersion(t, s); n == 0 {
		t.Errorf("version %d: the catalog was not written before the devices", n)
	}
	if err := env.RDB.Del(ctx, env.Key("devices")).Err(); err != nil {
		t.Fatal(err)
	}
	changes, devChanges, err := s.SyncWithDevices(ctx, cats, recs, imp, false, issue)
	if err != nil || len(changes) != 0 || len(devChanges) != 1 || devChanges[0].Op != recipes.ItemAdded {
		t.Fatalf("again: %v, %v, %v; want only oven-1 added", changes, devChanges, err)
	}
	mustAuthenticate(t, s, "oven-1", issued["oven-1"])
	if ids, err := s.DeviceIDs(ctx); err != nil || !slices.Equal(ids, []string{"oven-1"}) {
		t.Errorf("DeviceIDs = %v, %v", ids, err)
	}
}

// TestSyncWithDevices_OutcomeUnknown: when device writes were sent and
// failed, some may have happened, and the error says so.
func TestSyncWithDevices_OutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	issued := 0
	_, _, err := s.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100"}}}, false, func(secrets map[string]string) error {
		issued = len(secrets)
		// Planned; now its key holds what its write cannot read.
		return env.RDB.Set(ctx, env.Plain("dev:{oven-1}"), "not a hash", 0).Err()
	})
	if !errors.Is(err, identity.ErrOutcomeUnknown) || issued != 1 {
		t.Fatalf("SyncWithDevices = %v after issuing %d secrets; want ErrOutcomeUnknown after 1", err, issued)
	}
}

// TestSyncWithDevices_Revokes: a seed that re-keys, disables (both only
// with Update) or changes the model of a device ends its session, as the
// device commands do.
func TestSyncWithDevices_Revokes(t *testing.T) {
	env := newEnv(t)
	writer, watcher := env.Open(t), env.Open(t)
	ctx := context.Background()
	for _, id := range []string{"probe", "same", "rekeyed", "disabled", "remodelled", "enabled", "relocaled", "keeps-locale"} {
		if _, err := writer.RegisterDevice(ctx, recipes.Device{ID: id, Model: "CM-100", Locale: "de"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.SetDeviceEnabled(ctx, "enabled", false); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan string, 100)
	if _, err := watcher.WatchRevokedDevices(wctx, func(id string) { got <- id }); err != nil {
		t.Fatal(err)
	}

	devs := []recipes.DeviceRecord{
		{ID: "same", Model: "CM-100"},
		devRecord("rekeyed", "CM-100", true, "new"),
		devRecord("disabled", "CM-100", false, ""),
		{ID: "remodelled", Model: "CM-300"},
		{ID: "relocaled", Model: "CM-100", Locale: "fr-CA"},
		{ID: "keeps-locale", Model: "CM-100"}, // no locale: keeps "de"
		{ID: "same-locale", Model: "CM-100", Locale: "de"},
		devRecord("enabled", "CM-100", true, ""),
		devRecord("added", "CM-100", true, "a"),
		devRecord("end", "CM-100", true, "e"),
	}
	if _, err := writer.RegisterDevice(ctx, recipes.Device{ID: "same-locale", Model: "CM-100", Locale: "de"}); err != nil {
		t.Fatal(err)
	}
	_, changes, err := writer.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs, Update: true}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range changes {
		if ch.ID == "relocaled" && (ch.Op != recipes.ItemChanged || ch.FromLocale != "de" || ch.Locale != "fr-CA") {
			t.Errorf("change of relocaled = %+v, want locale de -> fr-CA", ch)
		}
	}
	for id, want := range map[string]string{"relocaled": "fr-CA", "keeps-locale": "de", "same-locale": "de"} {
		if d, err := writer.Device(ctx, id); err != nil || d.Locale != want {
			t.Errorf("%s after sync: %+v, %v; want locale %q", id, d, err, want)
		}
	}
	if err := writer.SetDeviceEnabled(ctx, "end", false); err != nil { // marks the end
		t.Fatal(err)
	}
	// Devices are written in parallel (one pipeline per Cluster master),
	// so their revocations come in any order; "end" may overtake them on
	// a Cluster, where each master relays the others' messages.
	var heard []string
	for ended := false; !ended || len(heard) < 4; {
		select {
		case id := <-got:
			switch id {
			case "end":
				ended = true
			case "probe":
			default:
				heard = append(heard, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("heard %q, then nothing", heard)
		}
	}
	slices.Sort(heard)
	if diff := cmp.Diff([]string{"disabled", "rekeyed", "relocaled", "remodelled"}, heard); diff != "" {
		t.Errorf("revocations (-want +got):\n%s", diff)
	}
}

// TestExportDevices exports a fleet with its hashes and seeds it into
// another store, where every device authenticates as before.
func TestExportDevices(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	secrets := map[string]string{}
	for _, id := range []string{"oven-b", "oven-a", "oven-c"} {
		secret, err := s.AddDevice(ctx, id, "CM-200")
		if err != nil {
			t.Fatal(err)
		}
		secrets[id] = secret
	}
	if err := s.SetDeviceEnabled(ctx, "oven-c", false); err != nil {
		t.Fatal(err)
	}
	locale := "pt-br"
	if _, err := s.UpdateDevice(ctx, "oven-b", recipes.DeviceUpdate{Locale: &locale}); err != nil {
		t.Fatal(err)
	}
	devs, err := s.ExportDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []recipes.DeviceRecord{
		{ID: "oven-a", Model: "CM-200", Enabled: &yes, SecretHash: secretHash(secrets["oven-a"])},
		{ID: "oven-b", Model: "CM-200", Locale: "pt-BR", Enabled: &yes, SecretHash: secretHash(secrets["oven-b"])},
		{ID: "oven-c", Model: "CM-200", Enabled: &no, SecretHash: secretHash(secrets["oven-c"])},
	}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Fatalf("ExportDevices (-want +got):\n%s", diff)
	}

	other := MustOpenStore(t)
	if _, _, err := other.SyncWithDevices(ctx, nil, nil, recipes.DeviceImport{Devices: devs}, false, nil); err != nil {
		t.Fatal(err)
	}
	mustAuthenticate(t, other, "oven-a", secrets["oven-a"])
	mustAuthenticate(t, other, "oven-b", secrets["oven-b"])
	assertRefused(t, other, "oven-c", secrets["oven-c"])
	again, err := other.ExportDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(devs, again); diff != "" {
		t.Errorf("export of the seeded export (-first +second):\n%s", diff)
	}
}
