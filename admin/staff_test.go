package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

var staffSecret = regexp.MustCompile(`id="staff-secret">([^<]+)<`)

func TestStaffPage(t *testing.T) {
	s := MustStartServer(t)
	admin := s.MustSignIn(t)

	t.Run("Add", func(t *testing.T) {
		p := admin.Post("/staff", url.Values{"name": {"carol"}, "role": {recipes.RoleEditor}}).Want(http.StatusOK)
		m := staffSecret.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no generated password shown:\n%s", webtest.Excerpt(p.Body))
		}
		carol := s.NewWebClient(t)
		carol.SignIn("carol", m[1]).Want(http.StatusSeeOther)
		carol.Get("/categories").Want(http.StatusOK)
		carol.Get("/staff").Want(http.StatusForbidden)
		if strings.Contains(carol.Get("/categories").Body, `href="/devices"`) {
			t.Errorf("an editor's navigation links to /devices")
		}
		admin.Get("/staff").Want(http.StatusOK).Has(t, "carol", "editor")
	})
	t.Run("AddErrInvalid", func(t *testing.T) {
		p := admin.Post("/staff", url.Values{"name": {"dave"}, "role": {recipes.RoleEditor}, "password": {"short"}}).Want(http.StatusUnprocessableEntity)
		if got := p.FieldError("password"); got != "the password must be at least 10 characters long" {
			t.Errorf("password error %q", got)
		}
		p = admin.Post("/staff", url.Values{"name": {"dave"}, "role": {"owner"}}).Want(http.StatusUnprocessableEntity)
		if got := p.FieldError("role"); got != `"owner" is not a role (admin, editor)` {
			t.Errorf("role error %q", got)
		}
	})
	t.Run("RoleChangeAppliesToTheNextRequest", func(t *testing.T) {
		s.mustAddEditor(t)
		ed := s.NewWebClient(t)
		ed.SignIn(editorName, editorPassword).Want(http.StatusSeeOther)
		ed.Get("/devices").Want(http.StatusForbidden)
		admin.Post("/staff/"+editorName+"/role", url.Values{"role": {recipes.RoleAdmin}}).Want(http.StatusSeeOther)
		ed.Get("/devices").Want(http.StatusOK)
		admin.Post("/staff/"+editorName+"/role", url.Values{"role": {recipes.RoleEditor}}).Want(http.StatusSeeOther)
		ed.Get("/devices").Want(http.StatusForbidden)
	})
	t.Run("DisableEndsSessions", func(t *testing.T) {
		ed := s.NewWebClient(t)
		ed.SignIn(editorName, editorPassword).Want(http.StatusSeeOther)
		admin.Post("/staff/"+editorName+"/disable", nil).Want(http.StatusSeeOther)
		if p := ed.Get("/categories"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login") {
			t.Fatalf("a disabled account's session: %d to %q, want the sign-in page", p.Status, p.Location)
		}
		p := s.NewWebClient(t).SignIn(editorName, editorPassword).Want(http.StatusForbidden)
		p.Has(t, "This account is disabled")
		admin.Post("/staff/"+editorName+"/enable", nil).Want(http.StatusSeeOther)
		s.NewWebClient(t).SignIn(editorName, editorPassword).Want(http.StatusSeeOther)
	})
	t.Run("ResetPasswordEndsSessions", func(t *testing.T) {
		ed := s.NewWebClient(t)
		ed.SignIn(editorName, editorPassword).Want(http.StatusSeeOther)
		admin.Post("/staff/"+editorName+"/password", url.Values{"password": {"a-new-password-1"}}).Want(http.StatusOK)
		if p := ed.Get("/categories"); p.Status != http.StatusSeeOther {
			t.Fatalf("session after a password reset: %d", p.Status)
		}
		s.NewWebClient(t).SignIn(editorName, "a-new-password-1").Want(http.StatusSeeOther)
	})
	t.Run("LastAdmin", func(t *testing.T) {
		const msg = `"admin" is the last enabled admin: make another account an admin first, or nobody could manage staff, devices and tokens`
		admin.Post("/staff/admin/disable", nil).Want(http.StatusSeeOther)
		if got := admin.Get("/staff").Want(http.StatusOK).Flash(); got != msg {
			t.Errorf("flash %q, want %q", got, msg)
		}
		admin.Post("/staff/admin/role", url.Values{"role": {recipes.RoleEditor}}).Want(http.StatusSeeOther)
		if got := admin.Get("/staff").Want(http.StatusOK).Flash(); got != msg {
			t.Errorf("flash %q, want %q", got, msg)
		}
		e := s.newestAudit(t)
		if e.Outcome != "409 "+msg || e.Target != "name=admin" || e.Detail != "role=editor" {
			t.Errorf("audit entry of the refused demotion: %+v", e)
		}
		st, err := s.Identity.Staff(context.Background(), identity.FirstAdmin)
		if err != nil || st.Disabled || st.EffectiveRole() != recipes.RoleAdmin {
			t.Errorf("the last admin after refused changes: %+v, %v", st, err)
		}
	})
}

// TestAuditLog reads back what the UI and the API recorded, filters it,
// exports it, and finds none of the secrets that went through the
// server in any entry.
func TestAuditLog(t *testing.T) {
	s := MustStartServer(t)
	ctx := context.Background()
	w := s.NewWebClient(t)
	secrets := []string{testAdminPassword}

	// Sign-ins: a password typed into the name field, a wrong password.
	const typedIntoName = "my-secret-password-typed-as-name"
	w.SignIn(typedIntoName, "x").Want(http.StatusUnauthorized)
	secrets = append(secrets, typedIntoName)
	w.SignIn(identity.FirstAdmin, "wrong-password-123").Want(http.StatusUnauthorized)
	secrets = append(secrets, "wrong-password-123")
	w.SignIn(identity.FirstAdmin, testAdminPassword).Want(http.StatusSeeOther)
	secrets = append(secrets, w.Cookie("recipesd_session"), w.Cookie("recipesd_csrf"))

	// A token, a device and its new secret, a staff account and passwords.
	tok := webtest.MustToken(t, w, "auditor", recipes.ScopeAudit, recipes.ScopeDevices)
	secrets = append(secrets, tok)
	api := &webtest.API{W: w, Token: tok}
	var dev struct {
		Secret string `json:"secret"`
	}
	p := api.Call(http.MethodPost, "/api/devices", map[string]string{"id": "oven-9", "model": "CM-300X"}).Want(http.StatusCreated)
	if err := json.Unmarshal([]byte(p.Body), &dev); err != nil || dev.Secret == "" {
		t.Fatalf("device secret: %v %q", err, p.Body)
	}
	secrets = append(secrets, dev.Secret)
	p = api.Call(http.MethodPost, "/api/devices/oven-9/rotate", nil).Want(http.StatusOK)
	_ = json.Unmarshal([]byte(p.Body), &dev)
	secrets = append(secrets, dev.Secret)
	w.Post("/staff", url.Values{"name": {"erin"}, "role": {"editor"}, "password": {"erins-first-password"}}).Want(http.StatusOK)
	p = w.Post("/staff/erin/password", nil).Want(http.StatusOK)
	secrets = append(secrets, "erins-first-password", staffSecret.FindStringSubmatch(p.Body)[1])

	t.Run("Entries", func(t *testing.T) {
		page, err := s.Audit.Entries(ctx, recipes.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range page.Entries {
			got = append(got, e.Actor.String()+" "+e.Action+" "+e.Target+" "+e.Outcome)
		}
		want := []string{
			"staff:admin POST /staff/:name/password name=erin ok",
			"staff:admin POST /staff name=erin ok",
			"token:auditor POST /api/devices/:id/rotate id=oven-9 ok",
			"token:auditor POST /api/devices id=oven-9 ok",
			"staff:admin POST /tokens name=auditor ok",
			"staff:admin POST /login  ok",
			"staff:admin POST /login  401 wrong name or password",
			"staff: POST /login  401 wrong name or password",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("NoSecrets", func(t *testing.T) {
		raw, err := s.Redis.Stream("{recipesd}:audit")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(raw)
		for _, sec := range secrets {
			if sec == "" {
				t.Fatal("a secret of the test is empty")
			}
			if strings.Contains(string(b), sec) {
				t.Errorf("the audit log holds the secret %q", sec)
			}
		}
	})
	t.Run("PageAndFilters", func(t *testing.T) {
		p := w.Get("/audit?actor=token:auditor").Want(http.StatusOK)
		if n := strings.Count(p.Body, "<td>token:auditor</td>"); n != 2 {
			t.Errorf("%d entries of token:auditor shown, want 2", n)
		}
		p = w.Get("/audit?target=erin").Want(http.StatusOK)
		if n := strings.Count(p.Body, "name=erin"); n != 2 {
			t.Errorf("%d entries of erin shown, want 2", n)
		}
		p = w.Get("/audit?from=2999-01-01").Want(http.StatusOK).Has(t, "No entries")
		p = w.Get("/audit?from=yesterday").Want(http.StatusBadRequest)
		p.Has(t, `from "yesterday" is not a time`)
	})
	t.Run("Export", func(t *testing.T) {
		p := w.Get("/audit/export?actor=token:auditor").Want(http.StatusOK)
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/jsonl") {
			t.Errorf("Content-Type %q", ct)
		}
		lines := strings.Split(strings.TrimSpace(p.Body), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d lines, want 2:\n%s", len(lines), p.Body)
		}
		var e recipes.AuditEntry
		if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Action != "POST /api/devices/:id/rotate" || e.ID == "" || e.Time.IsZero() {
			t.Errorf("first line %s: %+v, %v", lines[0], e, err)
		}
	})
	t.Run("API", func(t *testing.T) {
		p := api.Call(http.MethodGet, "/api/audit?actor=staff:admin&limit=2", nil).Want(http.StatusOK)
		page := webtest.DecodeJSON[recipes.AuditPage](t, p)
		if len(page.Entries) != 2 || page.Next == "" {
			t.Fatalf("page %+v", page)
		}
		p = api.Call(http.MethodGet, "/api/audit?actor=staff:admin&before="+page.Next, nil).Want(http.StatusOK)
		if rest := webtest.DecodeJSON[recipes.AuditPage](t, p); len(rest.Entries) != 3 {
			t.Errorf("second page: %d entries, want 3", len(rest.Entries))
		}
		api.Call(http.MethodGet, "/api/audit?limit=0", nil).Want(http.StatusBadRequest)
	})
}

// slowLog is an audit log that takes its time to record.
type slowLog struct{ admin.AuditLog }

func (l slowLog) Record(ctx context.Context, e recipes.AuditEntry) error {
	time.Sleep(100 * time.Millisecond)
	return l.AuditLog.Record(ctx, e)
}

// TestAuditEntryBeforeAnswer: the entry of a request is written by the
// time its whole answer has arrived, for a page or redirect the handler
// writes as for an error, so whoever acts and then opens /audit finds it
// there, however slow the log.
func TestAuditEntryBeforeAnswer(t *testing.T) {
	s := MustStartServer(t, func(o *admin.Options) { o.Audit = slowLog{o.Audit} })
	w := s.MustSignIn(t)
	steps := []struct {
		name   string
		do     func() *webtest.Page
		status int
	}{
		{"Page", func() *webtest.Page { return w.Post("/staff", url.Values{"name": {"fay"}, "role": {"editor"}}) }, http.StatusOK},
		{"Redirect", func() *webtest.Page { return w.Post("/staff/fay/disable", nil) }, http.StatusSeeOther},
		{"Error", func() *webtest.Page { return w.Post("/staff/nobody/enable", nil) }, http.StatusNotFound},
	}
	for _, st := range steps {
		before := s.auditLen(t)
		st.do().Want(st.status)
		if got := s.auditLen(t) - before; got != 1 {
			t.Errorf("%s: %d entries when the answer arrived, want 1", st.name, got)
		}
		time.Sleep(150 * time.Millisecond) // a late entry must not count for the next step
	}
}
