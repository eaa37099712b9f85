package secretsfile_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/secretsfile"
)

// TestSave: a later start's secrets replace the file as a whole, keep what
// it held under other keys, and leave nothing behind.
func TestSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "first-start-secrets.txt")
	if err := os.WriteFile(path, []byte("# old\nadmin_name=admin\nadmin_password=from-the-first-start\ndemo_device_secret=stale\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	got, err := secretsfile.Save(dir, "first-start-secrets.txt", [][2]string{{"demo_device", "demo-oven"}, {"demo_device_secret", "fresh"}}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got != path {
		t.Errorf("path %q, want %q", got, path)
	}
	want := "# Secrets recipesd generated (last at 2025-03-01T11:00:00Z). They are shown nowhere else:\n" +
		"# keep them somewhere safe, then delete this file.\n" +
		"admin_name=admin\nadmin_password=from-the-first-start\n" +
		"demo_device=demo-oven\ndemo_device_secret=fresh\n"
	if b, err := os.ReadFile(path); err != nil || string(b) != want {
		t.Errorf("file holds %q, %v; want %q", b, err, want)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the data directory holds %d files, want only the secrets file", len(entries))
	}
	t.Run("NewDirectory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		path, err := secretsfile.Save(dir, "s.txt", [][2]string{{"k", "v"}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("data directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
	})
	t.Run("ErrUnwritable", func(t *testing.T) {
		if _, err := secretsfile.Save(filepath.Join(path, "sub"), "s.txt", [][2]string{{"k", "v"}}, now); err == nil {
			t.Fatal("no error for a data directory under a file")
		}
	})
}

// TestShellValue: the command substitution reads the value back in a real
// shell, whatever the path holds.
func TestShellValue(t *testing.T) {
	for _, dirName := range []string{"data", "my data", "it's", "$(touch pwned)"} {
		t.Run(dirName, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), dirName)
			path, err := secretsfile.Save(dir, "first-start-secrets.txt", [][2]string{{"admin_name", "admin"}, {"demo_device_secret", "s3cr3t-Value_1"}}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", "printf %s "+secretsfile.ShellValue(path, "demo_device_secret"))
			cmd.Dir = t.TempDir()
			out, err := cmd.Output()
			if err != nil || string(out) != "s3cr3t-Value_1" {
				t.Errorf("sh -c ... %s: %q, %v; want the secret", secretsfile.ShellValue(path, "demo_device_secret"), out, err)
			}
			if _, err := os.Stat(filepath.Join(cmd.Dir, "pwned")); err == nil {
				t.Error("the path ran as a command")
			}
		})
	}
	if got, want := secretsfile.ShellValue("./data/first-start-secrets.txt", "demo_device_secret"),
		"$(sed -n s/demo_device_secret=//p ./data/first-start-secrets.txt)"; got != want {
		t.Errorf("ShellValue = %q, want %q (as the README shows it)", got, want)
	}
}
