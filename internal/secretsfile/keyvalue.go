package secretsfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Save writes kv, in order, as "key=value" lines under a header saying
// when, to the file name in dir, which it creates if need be, and returns
// the file's absolute path. Lines already in the file under other keys are
// kept (a later start may create the admin after an earlier one made the
// demo device); the rest is replaced.
func Save(dir, name string, kv [][2]string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Secrets recipesd generated (last at %s). They are shown nowhere else:\n", now.UTC().Format(time.RFC3339))
	b.WriteString("# keep them somewhere safe, then delete this file.\n")
	written := map[string]bool{}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	for _, e := range kv {
		written[e[0]] = true
	}
	sc := bufio.NewScanner(bytes.NewReader(old))
	for sc.Scan() {
		line := sc.Text()
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && !written[k] {
			fmt.Fprintln(&b, line)
		}
	}
	for _, e := range kv {
		fmt.Fprintf(&b, "%s=%s\n", e[0], e[1])
	}
	if err := replace(path, func(w io.Writer) error {
		_, err := b.WriteTo(w)
		return err
	}); err != nil {
		return "", err
	}
	return path, nil
}

// ShellValue is a POSIX shell command substitution that reads the value of
// key, a plain word, from the file at path written by [Save]: a command
// line can then name a secret without holding it. It has no quotes a text
// log would escape, unless path needs them.
func ShellValue(path, key string) string {
	return "$(sed -n s/" + key + "=//p " + shellWord(path) + ")"
}
