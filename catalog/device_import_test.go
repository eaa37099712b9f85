package catalog_test

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

	"github.com/recipesd/recipesd/catalog"
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

func mustAuthenticate(tb testing.TB, s *catalog.Store, id, secret string) recipes.Device {
	tb.Helper()
	d, err := s.AuthenticateDevice(context.Background(), id, secret)
	if err != nil {
		tb.Fatalf("AuthenticateDevice(%s): %v", id, err)
	}
	return d
}

func assertRefused(tb testing.TB, s *catalog.Store, id, secret string) {
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
		changes, err := s.SyncWithDevices(ctx, cats, recs, devs, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := count(changes, "device", recipes.ItemAdded); got != 2 || count(changes, "recipe", recipes.ItemAdded) != 20 {
			t.Errorf("changes %v; want 20 recipes and 2 devices added", changes)
		}
		if last := changes[len(changes)-1]; last != (recipes.Change{Op: recipes.ItemAdded, Kind: "device", ID: "oven-2"}) {
			t.Errorf("last change %+v, want oven-2 added", last)
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
		if _, err := s.SyncWithDevices(ctx, nil, nil, devs, false, nil); err != nil {
			t.Fatal(err)
		}
		if v := mustVersion(t, s); v != v0 {
			t.Errorf("version %d -> %d, want unchanged", v0, v)
		}
		before := snapshot(t, env)
		changes, err := s.SyncWithDevices(ctx, cats, recs, devs, false, nil)
		if err != nil || len(changes) != 0 {
			t.Errorf("again: %v, %v; want no changes", changes, err)
		}
		if diff := cmp.Diff(before, snapshot(t, env)); diff != "" {
			t.Errorf("seeding the same again wrote (-before +after):\n%s", diff)
		}
	})

	// An existing device without a hash keeps its secret; a new hash
	// replaces it; model and enabled are upserted.
	t.Run("OKUpsert", func(t *testing.T) {
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
		v0 := mustVersion(t, s)
		devs := []recipes.DeviceRecord{
			devRecord("oven-1", "CM-300", true, ""),                          // model changed, secret kept
			devRecord("oven-2", "CM-100", true, "new-2"),                     // rotated by file
			devRecord("oven-3", "CM-200", true, ""),                          // enabled by the file
			devRecord("oven-4", "CM-300X", true, "new-4"),                    // added
			{ID: "oven-5", Model: "CM-200"},                                  // left disabled: enabled not given
			{ID: "oven-6", Model: "CM-200", SecretHash: secretHash("new-6")}, // added, enabled
		}
		changes, err := s.SyncWithDevices(ctx, nil, nil, devs, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []recipes.Change{
			{Op: recipes.ItemChanged, Kind: "device", ID: "oven-1"},
			{Op: recipes.ItemChanged, Kind: "device", ID: "oven-2"},
			{Op: recipes.ItemChanged, Kind: "device", ID: "oven-3"},
			{Op: recipes.ItemAdded, Kind: "device", ID: "oven-4"},
			{Op: recipes.ItemAdded, Kind: "device", ID: "oven-6"},
		}
		if diff := cmp.Diff(want, changes); diff != "" {
			t.Errorf("changes (-want +got):\n%s", diff)
		}
		if d := mustAuthenticate(t, s, "oven-1", kept); d.Model != "CM-300" {
			t.Errorf("oven-1 model %s, want CM-300", d.Model)
		}
		assertRefused(t, s, "oven-2", rotated)
		mustAuthenticate(t, s, "oven-2", "new-2")
		mustAuthenticate(t, s, "oven-4", "new-4")
		for id, want := range map[string]bool{"oven-3": true, "oven-5": false, "oven-6": true} {
			if d, err := s.Device(ctx, id); err != nil || d.Enabled != want {
				t.Errorf("%s = %+v, %v; want enabled %v", id, d, err, want)
			}
		}
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
		_, err := s.SyncWithDevices(ctx, nil, nil, devs, false, func(secrets map[string]string) error {
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
		_, err := s.SyncWithDevices(ctx, nil, nil, devs, false, func(secrets map[string]string) error {
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

	// -prune leaves devices alone.
	t.Run("OKPrune", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, err := s.SyncWithDevices(ctx, cats, recs, []recipes.DeviceRecord{devRecord("oven-1", "CM-300", true, "s1")}, false, nil); err != nil {
			t.Fatal(err)
		}
		changes, err := s.SyncWithDevices(ctx, cats[:1], recs[:1], []recipes.DeviceRecord{devRecord("oven-2", "CM-300", true, "s2")}, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if count(changes, "device", recipes.ItemRemoved) != 0 || count(changes, "recipe", recipes.ItemRemoved) != 19 {
			t.Errorf("changes %v", changes)
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
		before := snapshot(t, env)
		devs := []recipes.DeviceRecord{devRecord("oven-1", "CM-200", true, ""), {ID: "oven-2", Model: "CM-200"}}
		changes, err := s.PlanWithDevices(ctx, cats, recs, devs, false, true)
		if err != nil {
			t.Fatal(err)
		}
		if count(changes, "device", recipes.ItemAdded) != 1 || count(changes, "device", recipes.ItemChanged) != 1 {
			t.Errorf("changes %v", changes)
		}
		if diff := cmp.Diff(before, snapshot(t, env)); diff != "" {
			t.Errorf("Plan wrote (-before +after):\n%s", diff)
		}
		_, err = s.PlanWithDevices(ctx, cats, recs, devs, false, false)
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
				before := snapshot(t, env)
				_, err := s.SyncWithDevices(ctx, cats, recs, tt.devs, false, tt.issue)
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
				if diff := cmp.Diff(before, snapshot(t, env)); diff != "" {
					t.Errorf("the store changed (-before +after):\n%s", diff)
				}
			})
		}
	})
}

// TestSyncWithDevices_OutcomeUnknown: when EXEC fails, the write may have
// happened in part (Redis does not roll back), and the error says so.
func TestSyncWithDevices_OutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	env := newEnv(t)
	s := env.Open(t)
	if err := env.RDB.Set(ctx, env.Key("devices"), "not a set", 0).Err(); err != nil {
		t.Fatal(err)
	}
	issued := 0
	_, err := s.SyncWithDevices(ctx, nil, nil, []recipes.DeviceRecord{{ID: "oven-1", Model: "CM-100"}}, false, func(secrets map[string]string) error {
		issued = len(secrets)
		return nil
	})
	if !errors.Is(err, catalog.ErrOutcomeUnknown) || issued != 1 {
		t.Fatalf("SyncWithDevices = %v after issuing %d secrets; want ErrOutcomeUnknown after 1", err, issued)
	}
}

// TestSyncWithDevices_Revokes: a seed that re-keys, disables or changes
// the model of a device ends its session, as the device commands do.
func TestSyncWithDevices_Revokes(t *testing.T) {
	env := newEnv(t)
	writer, watcher := env.Open(t), env.Open(t)
	ctx := context.Background()
	for _, id := range []string{"probe", "same", "rekeyed", "disabled", "remodelled", "enabled"} {
		if _, err := writer.AddDevice(ctx, id, "CM-100"); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.SetDeviceEnabled(ctx, "enabled", false); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan string, 100)
	go func() { _ = watcher.WatchRevokedDevices(wctx, func(id string) { got <- id }) }()
	deadline := time.After(10 * time.Second)
	for heard := false; !heard; {
		if err := writer.SetDeviceEnabled(ctx, "probe", false); err != nil {
			t.Fatal(err)
		}
		select {
		case id := <-got:
			heard = id == "probe"
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("the watcher never heard of a revocation")
		}
	}

	devs := []recipes.DeviceRecord{
		{ID: "same", Model: "CM-100"},
		devRecord("rekeyed", "CM-100", true, "new"),
		devRecord("disabled", "CM-100", false, ""),
		{ID: "remodelled", Model: "CM-300"},
		devRecord("enabled", "CM-100", true, ""),
		devRecord("added", "CM-100", true, "a"),
		devRecord("end", "CM-100", true, "e"),
	}
	if _, err := writer.SyncWithDevices(ctx, nil, nil, devs, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := writer.SetDeviceEnabled(ctx, "end", false); err != nil { // marks the end
		t.Fatal(err)
	}
	var heard []string
	for id := ""; id != "end"; {
		select {
		case id = <-got:
			if id != "probe" && id != "end" {
				heard = append(heard, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("heard %q, then nothing", heard)
		}
	}
	if diff := cmp.Diff([]string{"rekeyed", "disabled", "remodelled"}, heard); diff != "" {
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
	devs, err := s.ExportDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	want := []recipes.DeviceRecord{
		{ID: "oven-a", Model: "CM-200", Enabled: &yes, SecretHash: secretHash(secrets["oven-a"])},
		{ID: "oven-b", Model: "CM-200", Enabled: &yes, SecretHash: secretHash(secrets["oven-b"])},
		{ID: "oven-c", Model: "CM-200", Enabled: &no, SecretHash: secretHash(secrets["oven-c"])},
	}
	if diff := cmp.Diff(want, devs); diff != "" {
		t.Fatalf("ExportDevices (-want +got):\n%s", diff)
	}

	other := MustOpenStore(t)
	if _, err := other.SyncWithDevices(ctx, nil, nil, devs, false, nil); err != nil {
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
