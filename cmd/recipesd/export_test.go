package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCommand_Devices exports a fleet with the catalog: export ->
// seed round-trips it exactly, in both formats, and every device
// authenticates with its secret in the other store.
func TestExportCommand_Devices(t *testing.T) {
	ctx := context.Background()
	st := newTestRedis(t)
	st.mustRun(t, exitOK, "seed", demoDir)
	store := st.openStore(t)
	secret, err := store.AddDevice(ctx, "oven-1", "CM-300")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddDevice(ctx, "oven-2", "CM-100"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetDeviceEnabled(ctx, "oven-2", false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	for _, ext := range []string{"json", "yaml"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "fleet."+ext)
			r := st.mustRun(t, exitOK, "export", "-o", out)
			if !strings.Contains(r.stderr, "exported 10 categories, 130 recipes and 2 devices to "+out) {
				t.Errorf("stderr: %s", r.stderr)
			}
			info, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode().Perm() != 0o600 {
				t.Errorf("an export with secret hashes has mode %v, want 0600", info.Mode().Perm())
			}
			exported := readFile(t, out)
			if !strings.Contains(exported, secretHash(secret)) || strings.Contains(exported, secret) {
				t.Errorf("the export lacks oven-1's hash or holds its secret:\n%.300s", exported[strings.Index(exported, "devices"):])
			}
			// Seeding it back changes nothing.
			if r := st.mustRun(t, exitOK, "seed", "-prune", out); !strings.HasPrefix(r.stdout, "nothing to change: 10 categories, 130 recipes, 2 devices;") {
				t.Errorf("seeding the export back: %s", r.stdout)
			}
			other := newTestRedis(t)
			r = other.mustRun(t, exitOK, "seed", out)
			if !strings.Contains(r.stdout, "devices 2 added, 0 changed; catalog version 0 -> 1") {
				t.Errorf("seeding the export elsewhere: %s", r.stdout)
			}
			if got := other.mustRun(t, exitOK, "export", "-format", ext).stdout; got != exported {
				t.Errorf("the export of the seeded export differs")
			}
			otherStore := other.openStore(t)
			if _, err := otherStore.AuthenticateDevice(ctx, "oven-1", secret); err != nil {
				t.Errorf("oven-1 in the other store: %v", err)
			}
			if d, err := otherStore.Device(ctx, "oven-2"); err != nil || d.Enabled || d.Model != "CM-100" {
				t.Errorf("oven-2 in the other store: %+v, %v", d, err)
			}
		})
	}

	t.Run("NoDevices", func(t *testing.T) {
		out := filepath.Join(dir, "content.json")
		r := st.mustRun(t, exitOK, "export", "-no-devices", "-o", out)
		if !strings.Contains(r.stderr, "exported 10 categories and 130 recipes to "+out) {
			t.Errorf("stderr: %s", r.stderr)
		}
		if b := readFile(t, out); strings.Contains(b, `"devices"`) {
			t.Error("-no-devices exported devices")
		}
		if info, err := os.Stat(out); err != nil || info.Mode().Perm() != 0o644 {
			t.Errorf("mode %v, %v; want 0644 without devices", info.Mode().Perm(), err)
		}
		if r := st.mustRun(t, exitOK, "export", "-no-devices"); strings.Contains(r.stdout, "oven-1") {
			t.Error("-no-devices wrote devices to stdout")
		}
	})

	t.Run("Help", func(t *testing.T) {
		r := mustRun(t, exitOK, "export", "-h")
		if !strings.Contains(r.stderr, "-no-devices") || !strings.Contains(r.stderr, "secret hash") {
			t.Errorf("export -h:\n%s", r.stderr)
		}
	})
}
