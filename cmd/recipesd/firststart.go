package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/recipesd/recipesd/internal/atomicfile"
)

// secretsFileName is the file in the data directory where a start leaves
// the secrets it generated: the first admin's password and the demo
// device's secret. Logs are copied, shipped and kept; a secret in one is
// as good as published. The file is readable by its owner only.
const secretsFileName = "first-start-secrets.txt"

// Keys of the secrets file, one "key=value" a line.
const (
	keyAdminName        = "admin_name"
	keyAdminPassword    = "admin_password"
	keyDemoDevice       = "demo_device"
	keyDemoDeviceSecret = "demo_device_secret"
)

// writeSecretsFile writes kv, in order, to the secrets file in dir and
// returns its absolute path. Values already in the file under other keys
// are kept (a later start may create the admin after an earlier one made
// the demo device). The file is replaced as a whole, by [atomicfile.Write],
// so that it is never half-written nor, even for a moment, readable by
// others.
func writeSecretsFile(dir string, kv [][2]string, now time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, secretsFileName))
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

	if err := atomicfile.Write(path, 0o600, func(w io.Writer) error {
		_, err := b.WriteTo(w)
		return err
	}); err != nil {
		return "", err
	}
	return path, nil
}

// plainWord matches what a POSIX shell takes as one word unquoted.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=-]+$`)

// shellWord quotes s for a POSIX shell if it needs quoting.
func shellWord(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// plainHTTPExposed reports whether staff would sign in over plain HTTP
// from other machines: no TLS, no TLS proxy in front (-secure-cookies),
// and addr, the bound address, is not a loopback one.
func plainHTTPExposed(addr string, tls, secureCookies bool) bool {
	if tls || secureCookies {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}
