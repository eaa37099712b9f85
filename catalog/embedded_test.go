package catalog_test

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

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// openEmbedded opens an embedded store on dir; close it yourself.
func openEmbedded(tb testing.TB, dir string) (*catalog.Store, error) {
	tb.Helper()
	return catalog.Open(context.Background(), catalog.Options{DataDir: dir, Logger: testLogger()})
}

func mustOpenEmbedded(tb testing.TB, dir string) *catalog.Store {
	tb.Helper()
	s, err := openEmbedded(tb, dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	return s
}

// state is everything the admin reads see, for comparing across restarts.
type state struct {
	Version    int64
	Categories []recipes.Category
	Lists      map[string][]recipes.Summary
	Recipes    map[string]recipes.Recipe
}

func readState(tb testing.TB, s *catalog.Store) state {
	tb.Helper()
	ctx := context.Background()
	st := state{Lists: map[string][]recipes.Summary{}, Recipes: map[string]recipes.Recipe{}}
	var err error
	if st.Version, err = s.Version(ctx); err != nil {
		tb.Fatal(err)
	}
	if st.Categories, err = s.Categories(ctx); err != nil {
		tb.Fatal(err)
	}
	for _, c := range st.Categories {
		if st.Lists[c.Slug], err = s.RecipesIn(ctx, c.Slug); err != nil {
			tb.Fatal(err)
		}
		for _, sum := range st.Lists[c.Slug] {
			if st.Recipes[sum.ID], err = s.Recipe(ctx, sum.ID); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return st
}

func TestEmbedded_Reopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpenEmbedded(t, dir)
	seedSoups(t, s)
	ctx := context.Background()
	mustPutRecipe(t, s, recipe("bean-stew", "salads", "Bean Salad"))
	if err := s.DeleteRecipe(ctx, "apple-soup"); err != nil {
		t.Fatal(err)
	}
	want := readState(t, s)
	wantDoc := mustFind(t, s, recipes.Query{Category: "soups", Limit: 20})
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
		s = mustOpenEmbedded(t, dir)
		if diff := cmp.Diff(want, readState(t, s)); diff != "" {
			t.Fatalf("round %d: state after reopen (-want +got):\n%s", round, diff)
		}
		if doc := mustFind(t, s, recipes.Query{Category: "soups", Limit: 20}); doc.ETag != wantDoc.ETag {
			t.Fatalf("round %d: ETag %s after reopen, want %s", round, doc.ETag, wantDoc.ETag)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmbedded_Locked(t *testing.T) {
	dir := t.TempDir()
	s := mustOpenEmbedded(t, dir)
	mustPutCategory(t, s, category("soups", 0))

	_, err := openEmbedded(t, dir)
	var lerr *catalog.LockedError
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
	if _, err := s.Category(context.Background(), "soups"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = mustOpenEmbedded(t, dir)
	defer s.Close()
	if _, err := s.Category(context.Background(), "soups"); err != nil {
		t.Fatal(err)
	}
}

func TestEmbedded_NeedsDataDir(t *testing.T) {
	if _, err := catalog.Open(context.Background(), catalog.Options{}); err == nil {
		t.Fatal("Open without RedisURL and DataDir succeeded")
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
	s := mustOpenEmbedded(t, dir)
	defer s.Close()
	seedSoups(t, s)
	mustPutRecipe(t, s, recipe("bean-stew", "salads", "Bean Salad"))
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
		c := mustOpenEmbedded(t, copyDir(t, dir))
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
			c := mustOpenEmbedded(t, crashed)
			if diff := cmp.Diff(want, readState(t, c)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			// The torn tail is cut off, so later writes replay too.
			mustPutCategory(t, c, category("late", 9))
			copied := copyDir(t, crashed)
			c.Close()
			c = mustOpenEmbedded(t, copied)
			defer c.Close()
			if _, err := c.Category(context.Background(), "late"); err != nil {
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
		_, err = openEmbedded(t, crashed)
		if err == nil || !strings.Contains(err.Error(), path+" line 1: checksum mismatch") {
			t.Fatalf("Open err = %v, want a checksum mismatch naming %s line 1", err, path)
		}
	})
}
