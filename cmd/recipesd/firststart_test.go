package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/seed"
)

// logBuffer collects a server's log; handlers write it concurrently.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// readSecrets parses the secrets file.
func readSecrets(tb testing.TB, path string) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && !strings.HasPrefix(k, "#") {
			kv[k] = v
		}
	}
	return kv
}

// TestFirstStartSecrets: the first start's generated admin password and
// demo device secret go to a file only the owner may read, and the log
// says where, never what.
func TestFirstStartSecrets(t *testing.T) {
	var logs logBuffer
	s := MustRunMainLogged(t, &logs, func(c *Config) { c.AdminPassword = "" })
	if s.adminPassword == "" || s.demoSecret == "" {
		t.Fatal("the first start generated no admin password or demo secret")
	}
	log := logs.String()
	for what, secret := range map[string]string{"admin password": s.adminPassword, "demo device secret": s.demoSecret} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows the %s:\n%s", what, log)
		}
	}
	if s.SecretsFile != filepath.Join(s.Config.DataDir, secretsFileName) {
		t.Fatalf("secrets file %q, want it in the data directory %s", s.SecretsFile, s.Config.DataDir)
	}
	if !strings.Contains(log, "file="+s.SecretsFile) {
		t.Errorf("the log does not say where the secrets are:\n%s", log)
	}
	if strings.Contains(log, "plain HTTP") {
		t.Errorf("a warning about plain HTTP on loopback:\n%s", log)
	}
	fi, err := os.Stat(s.SecretsFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode %v, want 0600", fi.Mode().Perm())
	}
	kv := readSecrets(t, s.SecretsFile)
	if kv[keyAdminName] != "admin" || kv[keyDemoDevice] != seed.DemoDeviceID {
		t.Errorf("secrets file %v", kv)
	}

	// What the file says works: the admin signs in with it ...
	s.NewWebClient(t).SignIn(kv[keyAdminName], kv[keyAdminPassword]).Want(303)

	// ... and the logged mosquitto_rr line finds the demo secret in it.
	m := regexp.MustCompile(`-P (\$\(sed [^)]*\))`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no mosquitto_rr line reading the secrets file in the log:\n%s", log)
	}
	out, err := exec.Command("sh", "-c", "printf %s "+m[1]).Output()
	if err != nil {
		t.Fatalf("sh -c %s: %v", m[1], err)
	}
	if string(out) != s.demoSecret {
		t.Fatalf("the logged command reads %q from the secrets file, want the demo secret", out)
	}
	dev := s.MustDial(t, appliance.Options{ID: seed.DemoDeviceID, Password: string(out)})
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatal(r, err)
	}
}

// TestPlainHTTPWarning: the start warns when staff would sign in over
// plain HTTP on an address other machines reach. (Tests may listen on
// loopback only, so the bound address is given here.)
func TestPlainHTTPWarning(t *testing.T) {
	tests := []struct {
		addr        string
		tls, secure bool
		want        bool
	}{
		{"127.0.0.1:8080", false, false, false},
		{"127.0.0.2:8080", false, false, false},
		{"[::1]:8080", false, false, false},
		{"localhost:8080", false, false, false},
		{":8080", false, false, true},
		{"0.0.0.0:8080", false, false, true},
		{"[::]:8080", false, false, true},
		{"192.0.2.10:8080", false, false, true},
		{"[2001:db8::1]:8080", false, false, true},
		{"admin.example.com:8080", false, false, true},
		{"0.0.0.0:8443", true, false, false}, // HTTPS
		{"0.0.0.0:8080", false, true, false}, // behind a TLS proxy
	}
	for _, tt := range tests {
		if got := plainHTTPExposed(tt.addr, tt.tls, tt.secure); got != tt.want {
			t.Errorf("plainHTTPExposed(%q, tls %v, secure cookies %v) = %v, want %v", tt.addr, tt.tls, tt.secure, got, tt.want)
		}
	}
}
