package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
	done := make(chan error, 1)
	go func() { done <- watcher.WatchRevokedDevices(wctx, func(id string) { got <- id }) }()

	// Revoke the probe until the watcher hears of it: then it is listening.
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
	var heard []string
	for id := ""; id != "oven-2"; {
		select {
		case id = <-got:
			if id != "probe" && id != "oven-2" {
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
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchRevokedDevices returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchRevokedDevices did not return after cancel")
	}
}
