package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/webtest"
)

func TestUserAndTokenCommands(t *testing.T) {
	s := MustRunMain(t)
	store := []string{"-redis-url", s.Config.RedisURL}
	cli := func(env map[string]string, args ...string) (code int, stdout, stderr string) {
		var out, errOut bytes.Buffer
		code = run(context.Background(), append(args, store...), func(k string) string { return env[k] }, &out, &errOut)
		return code, strings.TrimSpace(out.String()), errOut.String()
	}
	t.Run("UserAdd", func(t *testing.T) {
		code, pw, stderr := cli(nil, "user", "add", "alice")
		if code != 0 || len(pw) < 20 {
			t.Fatalf("exit %d, password %q, stderr %s", code, pw, stderr)
		}
		s.NewWebClient(t).SignIn("alice", pw).Want(303)
		if code, _, _ := cli(nil, "user", "add", "alice"); code != exitFailure {
			t.Errorf("duplicate user: exit %d", code)
		}
		if code, _, stderr := cli(map[string]string{"RECIPESD_PASSWORD": "short"}, "user", "add", "bob"); code != exitUsage || !strings.Contains(stderr, "at least 10 characters") {
			t.Errorf("short password: exit %d %s", code, stderr)
		}
		if code, _, _ := cli(nil, "user", "add", "Bad Name"); code != exitUsage {
			t.Errorf("bad name: exit %d", code)
		}
	})
	t.Run("UserPasswd", func(t *testing.T) {
		w := s.NewWebClient(t)
		w.SignIn("alice", mustCLIPassword(t, cli, "bob-pass-123456", "user", "add", "bob")).Want(401)
		w.SignIn("bob", "bob-pass-123456").Want(303)
		code, _, stderr := cli(map[string]string{"RECIPESD_PASSWORD": "new-pass-123456"}, "user", "passwd", "bob")
		if code != 0 {
			t.Fatalf("passwd: exit %d %s", code, stderr)
		}
		w.Get("/categories").Want(303) // signed out everywhere
		s.NewWebClient(t).SignIn("bob", "new-pass-123456").Want(303)
		if code, _, _ := cli(nil, "user", "passwd", "nobody"); code != exitFailure {
			t.Errorf("unknown user: exit %d", code)
		}
		if _, out, _ := cli(nil, "user", "list"); !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
			t.Errorf("list: %s", out)
		}
	})
	t.Run("Token", func(t *testing.T) {
		code, secret, stderr := cli(nil, "token", "add", "ci")
		if code != 0 || !strings.HasPrefix(secret, "rcpd_") {
			t.Fatalf("exit %d, %q, %s", code, secret, stderr)
		}
		api := &webtest.API{W: s.NewWebClient(t), Token: secret}
		api.Call("GET", "/api/categories", nil).Want(200)
		api.Call("GET", "/api/devices", nil).Want(403) // catalog only, by default
		if _, out, _ := cli(nil, "token", "list", "-json"); !strings.Contains(out, `"name": "ci"`) || strings.Contains(out, "hash") {
			t.Errorf("list: %s", out)
		}
		code, fleet, stderr := cli(nil, "token", "add", "fleet", "-scopes", "devices, commands")
		if code != 0 {
			t.Fatalf("add -scopes: exit %d, %s", code, stderr)
		}
		fleetAPI := &webtest.API{W: api.W, Token: fleet}
		fleetAPI.Call("GET", "/api/devices", nil).Want(200)
		fleetAPI.Call("GET", "/api/categories", nil).Want(403)
		if _, out, _ := cli(nil, "token", "list"); !strings.Contains(out, "devices,commands") {
			t.Errorf("list shows no scopes: %s", out)
		}
		if code, _, stderr := cli(nil, "token", "add", "root", "-scopes", "everything"); code != exitUsage || !strings.Contains(stderr, `"everything" is not a scope (catalog, devices, commands, metrics, audit)`) {
			t.Errorf("bad scope: exit %d, %s", code, stderr)
		}
		if code, _, _ := cli(nil, "token", "revoke", "ci"); code != 0 {
			t.Fatalf("revoke: exit %d", code)
		}
		api.Call("GET", "/api/categories", nil).Want(401)
		if code, _, _ := cli(nil, "token", "revoke", "ci"); code != exitFailure {
			t.Errorf("revoke again: exit %d", code)
		}
		if code, _, _ := cli(nil, "token", "frobnicate", "ci"); code != exitUsage {
			t.Errorf("unknown action: exit %d", code)
		}
	})
}

func mustCLIPassword(t *testing.T, cli func(map[string]string, ...string) (int, string, string), pw string, args ...string) string {
	t.Helper()
	if code, out, stderr := cli(map[string]string{"RECIPESD_PASSWORD": pw}, args...); code != 0 || out != "" {
		t.Fatalf("%v: exit %d, stdout %q, %s", args, code, out, stderr)
	}
	return "wrong-for-alice"
}
