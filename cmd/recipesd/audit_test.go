package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/recipes"
)

// TestCLIAudit: every state-changing command records one entry as the OS
// user, with its outcome and without the secrets it handed out; the
// server records its own requests in the same log.
func TestCLIAudit(t *testing.T) {
	s := MustRunMain(t)
	store := []string{"-redis-url", s.Config.RedisURL}
	env := map[string]string{}
	cli := func(args ...string) (code int, stdout, stderr string) {
		var out, errOut bytes.Buffer
		code = run(context.Background(), append(args, store...), func(k string) string { return env[k] }, &out, &errOut)
		return code, strings.TrimSpace(out.String()), errOut.String()
	}
	must := func(args ...string) string {
		t.Helper()
		code, out, stderr := cli(args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		return out
	}
	var secrets []string
	secrets = append(secrets, must("staff", "add", "-role", "admin", "carol"))
	must("user", "role", "-role", "editor", "carol")
	must("user", "disable", "carol")
	must("user", "enable", "carol")
	if code, _, stderr := cli("user", "disable", "admin"); code != exitFailure || !strings.Contains(stderr, "last enabled admin") {
		t.Errorf("disable the last admin: exit %d: %s", code, stderr)
	}
	secrets = append(secrets, must("token", "add", "-scopes", "audit", "reader"))
	secrets = append(secrets, must("device", "add", "-model", "CM-300", "oven-7"))
	secrets = append(secrets, must("device", "rotate", "oven-7"))
	must("user", "list") // reads record nothing

	log := audit.New(s.RDB, audit.Options{})
	me := cliActor(func(k string) string { return env[k] }).String()
	p, err := log.Entries(context.Background(), recipes.AuditFilter{Actor: me})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range p.Entries {
		got = append(got, e.Action+" "+e.Target+" "+e.Detail+" "+e.Outcome)
	}
	want := []string{
		"cli device rotate id=oven-7  ok",
		"cli device add id=oven-7 model=CM-300 ok",
		"cli token add name=reader scopes=audit ok",
		`cli user disable name=admin  error: "admin" is the last enabled admin: make another account an admin first, or nobody could manage staff, devices and tokens`,
		"cli user enable name=carol  ok",
		"cli user disable name=carol  ok",
		"cli user role name=carol role=editor ok",
		"cli user add name=carol role=admin ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries of %s:\n%s\nwant:\n%s", me, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The server records in the same log: a sign-in.
	s.NewWebClient(t).SignIn("carol", secrets[0]).Want(303)
	p, err = log.Entries(context.Background(), recipes.AuditFilter{Actor: "staff:carol"})
	if err != nil || len(p.Entries) != 1 || p.Entries[0].Action != "POST /login" {
		t.Errorf("the server's entry of carol's sign-in: %+v, %v", p, err)
	}

	raw, err := s.RDB.XRange(context.Background(), "{recipesd}:audit", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(raw)
	for _, sec := range secrets {
		if len(sec) < 20 || strings.ContainsAny(sec, " \n") {
			t.Fatalf("%q is not a bare secret", sec)
		}
		if strings.Contains(string(b), sec) {
			t.Errorf("the audit log holds the secret %q", sec)
		}
	}
}
