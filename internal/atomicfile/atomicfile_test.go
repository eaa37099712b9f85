package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// names lists the entries of dir.
func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func check(t *testing.T, path, content string, perm fs.FileMode) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != content {
		t.Errorf("%s holds %q, want %q", path, got, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
	if n := names(t, filepath.Dir(path)); len(n) != 1 {
		t.Errorf("directory holds %v, want only %s", n, filepath.Base(path))
	}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name string
		old  string // content before, "" for no file
		perm fs.FileMode
	}{
		{"New", "", 0o644},
		{"NewSecret", "", 0o600},
		{"Replace", "old content\n", 0o640},
		{"ReplaceNarrowsMode", "old content\n", 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.txt")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o666); err != nil {
					t.Fatal(err)
				}
			}
			if err := Write(path, tt.perm, writeString("new content\n")); err != nil {
				t.Fatal(err)
			}
			check(t, path, "new content\n", tt.perm)
		})
	}
}

// TestWrite_RelativePath: a path without a directory is written in the
// working directory.
func TestWrite_RelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := Write("out.txt", 0o644, writeString("x")); err != nil {
		t.Fatal(err)
	}
	check(t, "out.txt", "x", 0o644)
}

// TestWrite_Fails: whatever fails, the old file is untouched and no
// temporary file is left.
func TestWrite_Fails(t *testing.T) {
	errBroken := errors.New("broken")
	tests := []struct {
		name  string
		write func(io.Writer) error
		setup func(t *testing.T, path string) // makes the write fail
		want  error
	}{
		{"WriteError", func(w io.Writer) error {
			_, _ = io.WriteString(w, "half of it")
			return errBroken
		}, nil, errBroken},
		{"RenameOverDirectory", writeString("new"), func(t *testing.T, path string) {
			// A directory in the way, with a file in it, cannot be renamed over.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(path, "inside"), 0o700); err != nil {
				t.Fatal(err)
			}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.txt")
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(t, path)
			}
			before := names(t, dir)
			err := Write(path, 0o644, tt.write)
			if err == nil {
				t.Fatal("no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if after := names(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
				t.Errorf("directory holds %v, had %v", after, before)
			}
			if tt.setup == nil {
				check(t, path, "old", 0o644)
			}
		})
	}
}

// TestWrite_NoDirectory: a missing directory is an error naming the path.
func TestWrite_NoDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "out.txt")
	err := Write(path, 0o644, writeString("x"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s that matches fs.ErrNotExist", err, path)
	}
}

// TestWrite_SyncsDirectory: the directory is synced after the rename, and
// a failure to sync it is reported: until then a crash may undo the write.
func TestWrite_SyncsDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	var synced []string
	errSync := errors.New("sync failed")
	defer func(f func(string) error) { syncDir = f }(syncDir)
	syncDir = func(d string) error {
		// By now the new content is in place.
		if got, _ := os.ReadFile(path); string(got) != "new" {
			t.Errorf("directory synced while %s holds %q", path, got)
		}
		synced = append(synced, d)
		return errSync
	}
	err := Write(path, 0o644, writeString("new"))
	if !errors.Is(err, errSync) {
		t.Errorf("error %v, want the sync's", err)
	}
	if len(synced) != 1 || filepath.Clean(synced[0]) != dir {
		t.Errorf("synced %q, want [%s]", synced, dir)
	}
	if n := names(t, dir); len(n) != 1 {
		t.Errorf("directory holds %v, want only out.txt", n)
	}
}

// TestSyncDir runs the real directory sync, which the other tests may
// pass through without noticing a failure.
func TestSyncDir(t *testing.T) {
	if err := syncDir(t.TempDir()); err != nil {
		t.Error(err)
	}
	if err := syncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
}

func TestCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.csv")
	if err := Create(path, 0o600, writeString("id,secret\n")); err != nil {
		t.Fatal(err)
	}
	check(t, path, "id,secret\n", 0o600)

	// A second Create finds the file and leaves it alone.
	err := Create(path, 0o600, writeString("other\n"))
	if !errors.Is(err, fs.ErrExist) || !strings.Contains(err.Error(), path) {
		t.Errorf("error %v, want one naming %s that matches fs.ErrExist", err, path)
	}
	check(t, path, "id,secret\n", 0o600)
}

// TestCreate_Fails: a failed Create leaves nothing behind, not even the
// name it took.
func TestCreate_Fails(t *testing.T) {
	errBroken := errors.New("broken")
	t.Run("Write", func(t *testing.T) {
		dir := t.TempDir()
		err := Create(filepath.Join(dir, "secrets.csv"), 0o600, func(io.Writer) error { return errBroken })
		if !errors.Is(err, errBroken) {
			t.Errorf("error %v, want %v", err, errBroken)
		}
		if n := names(t, dir); len(n) != 0 {
			t.Errorf("directory holds %v, want nothing", n)
		}
	})
	t.Run("SyncDirectory", func(t *testing.T) {
		defer func(f func(string) error) { syncDir = f }(syncDir)
		syncDir = func(string) error { return errBroken }
		dir := t.TempDir()
		err := Create(filepath.Join(dir, "secrets.csv"), 0o600, writeString("id,secret\n"))
		if !errors.Is(err, errBroken) {
			t.Errorf("error %v, want %v", err, errBroken)
		}
		if n := names(t, dir); len(n) != 0 {
			t.Errorf("directory holds %v, want nothing", n)
		}
	})
}
