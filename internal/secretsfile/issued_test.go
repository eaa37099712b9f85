package secretsfile_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/secretsfile"
)

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestIssued: the file is created with only the header, each write
// replaces it as a whole, and the report says what it holds.
func TestIssued(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.csv")
	f, err := secretsfile.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "id,secret\n" {
		t.Errorf("new file holds %q, want only the header", got)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	var out strings.Builder
	f.Report(&out)
	if want := "no new device needed a secret; " + path + " holds only the CSV header\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}

	// A retry's secrets replace the first attempt's.
	for _, secrets := range []map[string]string{{"oven-2": "b", "oven-1": "a", "oven-3": "c"}, {"oven-9": "z,\"q", "oven-1": "a2"}} {
		if err := f.Write(secrets); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := readFile(t, path), "id,secret\noven-1,a2\noven-9,\"z,\"\"q\"\n"; got != want {
		t.Errorf("file holds %q, want %q", got, want)
	}
	out.Reset()
	f.Report(&out)
	if want := "secrets issued to new devices: 2, written to " + path + " (mode 0600); provision them, then delete the file\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the directory holds %d files, want only the secrets file", len(entries))
	}

	t.Run("ErrExists", func(t *testing.T) {
		before := readFile(t, path)
		if _, err := secretsfile.Create(path); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("Create over a file: %v, want fs.ErrExist", err)
		}
		if readFile(t, path) != before {
			t.Error("the file was written over")
		}
	})
}

// TestIssued_Finish: a failed write stored no secret, so the file goes,
// unless the store cannot tell whether it stored them.
func TestIssued_Finish(t *testing.T) {
	errUnknown := errors.New("the write may have been applied")
	tests := []struct {
		name     string
		secrets  map[string]string
		err      error
		wantKept bool
		wantSaid string
	}{
		{"OK", map[string]string{"oven-1": "a"}, nil, true, ""},
		{"OKNoneIssued", nil, nil, true, ""},
		{"ErrFailed", map[string]string{"oven-1": "a"}, errors.New("store down"), false, ""},
		{"ErrOutcomeUnknown", map[string]string{"oven-1": "a"}, fmt.Errorf("exec: %w", errUnknown), true,
			"recipesd: kept %s: the store may have registered the 1 new devices whose secrets it holds; check with \"recipesd device list\" before seeding again\n"},
		{"ErrOutcomeUnknownNoneIssued", nil, fmt.Errorf("exec: %w", errUnknown), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets.csv")
			f, err := secretsfile.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if tt.secrets != nil {
				if err := f.Write(tt.secrets); err != nil {
					t.Fatal(err)
				}
			}
			var said strings.Builder
			if got := f.Finish(tt.err, errUnknown, &said); got != tt.err {
				t.Errorf("Finish returned %v, want %v", got, tt.err)
			}
			if _, err := os.Stat(path); (err == nil) != tt.wantKept {
				t.Errorf("file kept: %v (%v), want %v", err == nil, err, tt.wantKept)
			}
			want := tt.wantSaid
			if want != "" {
				want = fmt.Sprintf(want, path)
			}
			if said.String() != want {
				t.Errorf("said %q, want %q", said.String(), want)
			}
		})
	}
}
