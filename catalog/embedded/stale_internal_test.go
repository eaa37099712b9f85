package embedded

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenRemovesStaleSnapshotFiles: a crash while a snapshot is written
// leaves a temporary file; the next start removes it, and the snapshot
// written before the crash is what is restored.
func TestOpenRemovesStaleSnapshotFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	e, c := openTestEmbedded(t, dir)
	if err := c.Set(ctx, "kept", "yes", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil { // compacts: writes the snapshot
		t.Fatal(err)
	}
	stale := []string{filepath.Join(dir, ".snapshot.123456.tmp"), filepath.Join(dir, "snapshot.tmp")}
	for _, name := range stale {
		if err := os.WriteFile(name, []byte("half a snapsh"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e, c = openTestEmbedded(t, dir)
	defer e.Close()
	for _, name := range stale {
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Errorf("%s after restart: %v, want it removed", filepath.Base(name), err)
		}
	}
	if got := c.Get(ctx, "kept").Val(); got != "yes" {
		t.Fatalf("kept = %q after restart, want yes", got)
	}
}
