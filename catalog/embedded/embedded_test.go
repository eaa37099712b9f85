package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog/embedded"
)

// editAfterSeeding makes the kinds of write seeding does not: a move, a
// saved draft and a removal.
func editAfterSeeding(tb testing.TB, s catalogStore) {
	tb.Helper()
	ctx := context.Background()
	if err := s.MoveRecipe(ctx, "bean-stew", "salads"); err != nil {
		tb.Fatal(err)
	}
	r := recipe("bean-stew", "salads", "Bean Salad")
	if _, err := s.SaveRecipe(ctx, r); err != nil {
		tb.Fatal(err)
	}
	if err := s.RemoveRecipe(ctx, "apple-soup"); err != nil {
		tb.Fatal(err)
	}
}

func TestEmbedded_Reopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpenCatalog(t, dir)
	seedSoups(t, s)
	editAfterSeeding(t, s)
	want := readState(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "journal")); err != nil || fi.Size() != 0 {
		t.Fatalf("journal after Close: %v, %v; want compacted to empty", fi, err)
	}

	for round := range 2 {
		s = mustOpenCatalog(t, dir)
		if diff := cmp.Diff(want, readState(t, s)); diff != "" {
			t.Fatalf("round %d: state after reopen (-want +got):\n%s", round, diff)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmbedded_Locked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpenCatalog(t, dir)
	mustPublishCategory(t, s, "soups")

	_, err := openCatalog(dir)
	var lerr *embedded.LockedError
	if !errors.As(err, &lerr) {
		t.Fatalf("second Open err = %v, want a *LockedError", err)
	}
	if lerr.Dir != dir || lerr.PID != os.Getpid() || time.Since(lerr.Since) > time.Minute {
		t.Fatalf("LockedError = %+v, want dir %s, pid %d, recent", lerr, dir, os.Getpid())
	}
	if want := fmt.Sprintf("in use by process %d (since ", os.Getpid()); !strings.Contains(err.Error(), want) {
		t.Fatalf("message %q does not contain %q", err, want)
	}
	// The refused Open left the store alone.
	if _, err := s.EditorCategory(context.Background(), "soups"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpenCatalog(t, dir)
	defer s.Close()
	if _, err := s.EditorCategory(context.Background(), "soups"); err != nil {
		t.Fatal(err)
	}
}

func TestEmbedded_NeedsDataDir(t *testing.T) {
	if _, err := embedded.Open(context.Background(), embedded.Options{}); err == nil {
		t.Fatal("Open without a directory succeeded")
	}
}

// copyDir copies the files of an open store's directory: what a crash
// at this moment would leave on disk (every write has been fsynced).
func copyDir(tb testing.TB, from string) string {
	tb.Helper()
	to := tb.TempDir()
	for _, name := range []string{"snapshot", "journal"} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	return to
}

func TestEmbedded_Journal(t *testing.T) {
	dir := t.TempDir()
	s := mustOpenCatalog(t, dir)
	defer s.Close()
	seedSoups(t, s)
	editAfterSeeding(t, s)
	want := readState(t, s)

	appendTo := func(t *testing.T, dir, s string) {
		f, err := os.OpenFile(filepath.Join(dir, "journal"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("Crash", func(t *testing.T) {
		c := mustOpenCatalog(t, copyDir(t, dir))
		defer c.Close()
		if diff := cmp.Diff(want, readState(t, c)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
	for name, tail := range map[string]string{
		"TornNoNewline": `1b2c3d4e {"n":99,"t":1,"c":[["SET","x"`,
		"TornGarbage":   "\x00\x00\x00\x00\x00\x00",
		"TornBadCRC":    `00000000 {"n":99,"t":1,"c":[["SET","x","y"]]}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			crashed := copyDir(t, dir)
			appendTo(t, crashed, tail)
			c := mustOpenCatalog(t, crashed)
			if diff := cmp.Diff(want, readState(t, c)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			// The torn tail is cut off, so later writes replay too.
			mustPublishCategory(t, c, "late")
			copied := copyDir(t, crashed)
			c.Close()
			c = mustOpenCatalog(t, copied)
			defer c.Close()
			if _, err := c.EditorCategory(context.Background(), "late"); err != nil {
				t.Fatalf("write after a torn tail lost: %v", err)
			}
		})
	}
	t.Run("ErrCorruptMiddle", func(t *testing.T) {
		crashed := copyDir(t, dir)
		path := filepath.Join(crashed, "journal")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n < 3 {
			t.Fatalf("journal has %d lines; the test needs 3", n)
		}
		i := strings.Index(string(b), "Name of")
		b[i] = 'n'
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = openCatalog(crashed)
		if err == nil || !strings.Contains(err.Error(), path+" line 1: checksum mismatch") {
			t.Fatalf("Open err = %v, want a checksum mismatch naming %s line 1", err, path)
		}
	})
}
