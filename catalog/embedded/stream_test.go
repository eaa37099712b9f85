package embedded_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/recipes"
)

// TestEmbedded_Stream checks that the audit log's stream survives a crash
// (journal replay) and a clean restart (snapshot) with the same entries
// under the same ids: an id is the entry's time, and replaying "*" would
// stamp every entry with the time of the replay.
func TestEmbedded_Stream(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	open := func(t *testing.T, dir string) (*embedded.Store, *audit.Log) {
		t.Helper()
		e, err := embedded.Open(ctx, embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return e, audit.New(e.Client(), audit.Options{Keep: 3})
	}
	entries := func(t *testing.T, l *audit.Log) []recipes.AuditEntry {
		t.Helper()
		p, err := l.Entries(ctx, recipes.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return p.Entries
	}
	e, l := open(t, dir)
	for i := range 5 { // two trimmed by the count
		err := l.Record(ctx, recipes.AuditEntry{Actor: recipes.Actor{Kind: recipes.ActorCLI, Name: "root"},
			Action: "cli device add", Target: fmt.Sprintf("id=oven-%d", i), Outcome: recipes.AuditOK})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := entries(t, l)
	if len(want) != 3 {
		t.Fatalf("%d entries, want 3 (Keep)", len(want))
	}
	time.Sleep(5 * time.Millisecond) // a replayed "*" would get a later id

	t.Run("Crash", func(t *testing.T) {
		c, cl := open(t, copyDir(t, dir))
		defer c.Close()
		if diff := cmp.Diff(want, entries(t, cl)); diff != "" {
			t.Fatalf("after replaying the journal (-want +got):\n%s", diff)
		}
	})
	t.Run("Snapshot", func(t *testing.T) {
		if err := e.Close(); err != nil { // compacts into the snapshot
			t.Fatal(err)
		}
		c, cl := open(t, dir)
		defer c.Close()
		if diff := cmp.Diff(want, entries(t, cl)); diff != "" {
			t.Fatalf("after a restart (-want +got):\n%s", diff)
		}
		// The stream goes on after the last id it had.
		if err := cl.Record(ctx, recipes.AuditEntry{Action: "cli seed", Outcome: recipes.AuditOK}); err != nil {
			t.Fatalf("record after a restart: %v", err)
		}
	})
}
