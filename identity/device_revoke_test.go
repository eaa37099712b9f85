package identity_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/recipes"
)

// TestWatchRevokedDevices checks that every change that must end a
// device's session reaches a watcher on another store of the same Redis,
// as it would another server, and that changes that need not end one do
// not.
func TestWatchRevokedDevices(t *testing.T) {
	env := newEnv(t)
	writer, watcher := env.Open(t), env.Open(t)
	ctx := context.Background()
	for _, id := range []string{"probe", "oven-1"} {
		if _, err := writer.AddDevice(ctx, id, "CM-100"); err != nil {
			t.Fatal(err)
		}
	}

	wctx, stop := context.WithCancel(ctx)
	got := make(chan string, 100)
	wait, err := watcher.WatchRevokedDevices(wctx, func(id string) { got <- id })
	if err != nil {
		t.Fatal(err)
	}
	// Listening already: a revocation right after the call is heard.
	if err := writer.SetDeviceEnabled(ctx, "probe", false); err != nil {
		t.Fatal(err)
	}
	select {
	case id := <-got:
		if id != "probe" {
			t.Fatalf("heard %q, want probe", id)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a revocation made right after WatchRevokedDevices returned was missed")
	}

	steps := []struct {
		name    string
		do      func() error
		revokes bool
	}{
		{"rotate", func() error { _, err := writer.RotateDeviceSecret(ctx, "oven-1"); return err }, true},
		{"enable", func() error { return writer.SetDeviceEnabled(ctx, "oven-1", true) }, false},
		{"disable", func() error { return writer.SetDeviceEnabled(ctx, "oven-1", false) }, true},
		{"model", func() error { return writer.SetDeviceModel(ctx, "oven-1", "CM-300X") }, true},
		{"add", func() error { _, err := writer.AddDevice(ctx, "oven-2", "CM-100"); return err }, false},
		{"delete", func() error { return writer.DeleteDevice(ctx, "oven-1") }, true},
	}
	var want []string
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.revokes {
			want = append(want, "oven-1")
		}
	}
	// A final probe marks the end: everything before it has arrived.
	if err := writer.SetDeviceEnabled(ctx, "oven-2", false); err != nil {
		t.Fatal(err)
	}
	// On a Redis Cluster the marker, published on oven-2's master, may
	// overtake oven-1's, relayed from another master: wait for both.
	var heard []string
	for ended := false; !ended || len(heard) < len(want); {
		select {
		case id := <-got:
			switch id {
			case "oven-2":
				ended = true
			case "probe":
			default:
				heard = append(heard, id)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("heard %q, then nothing", heard)
		}
	}
	if diff := cmp.Diff(want, heard); diff != "" {
		t.Errorf("revocations (-want +got):\n%s", diff)
	}

	stop()
	stopped := make(chan struct{})
	go func() { wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not stop after cancel")
	}
}

// TestUpdateDevice: model, locale and enabled change together or not at
// all, and only a change that must end a session announces a revocation
// (a new locale does: the session was admitted with the old one).
func TestUpdateDevice(t *testing.T) {
	env := newEnv(t)
	s, watcher := env.Open(t), env.Open(t)
	ctx := context.Background()
	if _, err := s.AddDevice(ctx, "oven-1", "CM-100"); err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	got := make(chan string, 100)
	if _, err := watcher.WatchRevokedDevices(wctx, func(id string) { got <- id }); err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	yes, no := true, false
	steps := []struct {
		name    string
		u       recipes.DeviceUpdate
		want    recipes.Device
		code    string
		revokes bool
	}{
		{"ErrInvalid", recipes.DeviceUpdate{Model: str("toaster"), Enabled: &no}, recipes.Device{Model: "CM-100", Enabled: true}, recipes.EINVALID, false},
		{"Unchanged", recipes.DeviceUpdate{Model: str("CM-100"), Enabled: &yes}, recipes.Device{Model: "CM-100", Enabled: true}, "", false},
		{"Both", recipes.DeviceUpdate{Model: str("CM-300"), Enabled: &no}, recipes.Device{Model: "CM-300", Enabled: false}, "", true},
		{"Enable", recipes.DeviceUpdate{Enabled: &yes}, recipes.Device{Model: "CM-300", Enabled: true}, "", false},
		{"Model", recipes.DeviceUpdate{Model: str("CM-200")}, recipes.Device{Model: "CM-200", Enabled: true}, "", true},
		{"Locale", recipes.DeviceUpdate{Locale: str("de-at")}, recipes.Device{Model: "CM-200", Locale: "de-AT", Enabled: true}, "", true},
		{"LocaleSame", recipes.DeviceUpdate{Locale: str(" DE-at ")}, recipes.Device{Model: "CM-200", Locale: "de-AT", Enabled: true}, "", false},
		{"LocaleInvalid", recipes.DeviceUpdate{Model: str("CM-300"), Locale: str("de_AT!")}, recipes.Device{Model: "CM-200", Locale: "de-AT", Enabled: true}, recipes.EINVALID, false},
		{"LocaleCleared", recipes.DeviceUpdate{Locale: str("")}, recipes.Device{Model: "CM-200", Enabled: true}, "", true},
	}
	for _, st := range steps {
		d, err := s.UpdateDevice(ctx, "oven-1", st.u)
		if recipes.ErrorCode(err) != st.code {
			t.Fatalf("%s: error %v, want code %q", st.name, err, st.code)
		}
		if err == nil && (d.Model != st.want.Model || d.Locale != st.want.Locale || d.Enabled != st.want.Enabled) {
			t.Errorf("%s: returned %+v", st.name, d)
		}
		stored, err := s.Device(ctx, "oven-1")
		if err != nil || stored.Model != st.want.Model || stored.Locale != st.want.Locale || stored.Enabled != st.want.Enabled {
			t.Fatalf("%s: stored %+v, %v; want model %s locale %q enabled %v", st.name, stored, err, st.want.Model, st.want.Locale, st.want.Enabled)
		}
		// A revocation of another device marks the end of this step's.
		// It is published from oven-1's slot: on a Redis Cluster only the
		// messages of one master keep their order.
		mark := sameSlot("mark-"+strings.ToLower(st.name), "oven-1")
		if _, err := s.AddDevice(ctx, mark, "CM-100"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDevice(ctx, mark); err != nil {
			t.Fatal(err)
		}
		var heard []string
		for id := ""; !strings.HasPrefix(id, "mark-"); {
			select {
			case id = <-got:
				if !strings.HasPrefix(id, "mark-") {
					heard = append(heard, id)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: heard %q, then nothing", st.name, heard)
			}
		}
		if revoked := len(heard) > 0; revoked != st.revokes {
			t.Errorf("%s: revocations %q, want revoked=%v", st.name, heard, st.revokes)
		}
	}
	if _, err := s.UpdateDevice(ctx, "no-such-oven", recipes.DeviceUpdate{Enabled: &no}); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("unknown device: %v", err)
	}
}

// sameSlot returns the first of prefix-0, prefix-1, ... whose device keys
// hash to the Redis Cluster slot of device id's.
func sameSlot(prefix, id string) string {
	for i := 0; ; i++ {
		if c := fmt.Sprintf("%s-%d", prefix, i); slot(c) == slot(id) {
			return c
		}
	}
}

// slot is the Redis Cluster slot of a device's keys, whose hash tag is
// the device id: CRC16 (XMODEM) of it, mod 16384.
func slot(id string) uint16 {
	var crc uint16
	for _, b := range []byte(id) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}
