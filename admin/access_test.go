package admin_test

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// Routes served without a rule of pages() or apiRoutes(): each guards
// itself or is public by nature.
var unruled = []string{
	"GET /healthz", "GET /readyz", "GET /metrics", "GET /favicon.ico", "GET /api/openapi.json",
}

const (
	editorName     = "ed"
	editorPassword = "editors-own-password"
)

// mustAddEditor adds the editor account ed.
func (s *testServer) mustAddEditor(tb testing.TB) {
	tb.Helper()
	if _, err := s.Identity.AddStaffAs(context.Background(), editorName, editorPassword, recipes.RoleEditor); err != nil {
		tb.Fatal(err)
	}
}

// auditLen is how many entries the audit stream holds.
func (s *testServer) auditLen(tb testing.TB) int {
	tb.Helper()
	es, err := s.Redis.Stream("{recipesd}:audit")
	if err != nil && !strings.Contains(err.Error(), "key not found") {
		tb.Fatal(err)
	}
	return len(es)
}

// newestAudit returns the newest audit entry.
func (s *testServer) newestAudit(tb testing.TB) recipes.AuditEntry {
	tb.Helper()
	p, err := s.Audit.Entries(context.Background(), recipes.AuditFilter{Limit: 1})
	if err != nil || len(p.Entries) != 1 {
		tb.Fatalf("newest audit entry: %+v, %v", p, err)
	}
	return p.Entries[0]
}

var pathParam = regexp.MustCompile(`:([a-z]+)`)

// TestEveryRouteHasARule: every route the server serves is a row of
// pages() or apiRoutes(), or one of the few unruled ones, so a route
// added without a rule fails here.
func TestEveryRouteHasARule(t *testing.T) {
	s := MustStartServer(t)
	h, err := s.Admin.Handler()
	if err != nil {
		t.Fatal(err)
	}
	var ruled []string
	for _, r := range s.Admin.Rules() {
		ruled = append(ruled, r.Method+" "+r.Path)
	}
	n := 0
	for _, r := range h.(*echo.Echo).Routes() {
		key := r.Method + " " + r.Path
		if r.Method == "echo_route_not_found" || strings.HasPrefix(r.Path, "/static") || slices.Contains(unruled, key) {
			continue
		}
		n++
		if !slices.Contains(ruled, key) {
			t.Errorf("%s is served without a rule in pages() or apiRoutes()", key)
		}
	}
	if n < 50 {
		t.Fatalf("only %d routes found", n)
	}
}

// TestRouteAccess goes over every rule: an editor gets 403 on admins'
// pages and through to the others, an admin through to all, a visitor
// to the sign-in page; an API token without the route's scope gets 403,
// one with it gets through. Every state-changing request, refused or
// not, writes exactly one audit entry with its actor and route; a
// visitor's writes none.
func TestRouteAccess(t *testing.T) {
	s := MustStartServer(t)
	s.mustAddEditor(t)
	ctx := context.Background()
	allScopes := webtest.RandomName("all")
	allSecret, err := s.Identity.CreateAPIToken(ctx, allScopes, "test", recipes.AllScopes)
	if err != nil {
		t.Fatal(err)
	}
	// A token per scope with every scope but that one.
	without := map[string][2]string{}
	for _, sc := range recipes.AllScopes {
		var others []string
		for _, o := range recipes.AllScopes {
			if o != sc {
				others = append(others, o)
			}
		}
		name := "no-" + sc
		secret, err := s.Identity.CreateAPIToken(ctx, name, "test", others)
		if err != nil {
			t.Fatal(err)
		}
		without[sc] = [2]string{name, secret}
	}

	type try struct {
		who      string // "editor", "admin", "visitor", or a token name
		do       func(w *webtest.Client) *webtest.Page
		forbid   bool   // want 403
		toLogin  bool   // want a redirect to the sign-in page
		actor    string // of the audit entry; "" for none
		noRecord bool
	}
	for _, rule := range s.Admin.Rules() {
		path := pathParam.ReplaceAllString(rule.Path, "no-such-$1")
		t.Run(rule.Method+" "+rule.Path, func(t *testing.T) {
			var tries []try
			page := func(w *webtest.Client) *webtest.Page {
				if rule.Method == http.MethodGet {
					return w.Get(path)
				}
				return w.Post(path, nil)
			}
			api := func(secret string) func(w *webtest.Client) *webtest.Page {
				return func(w *webtest.Client) *webtest.Page {
					var body any
					if rule.Changes() {
						body = map[string]any{}
					}
					return (&webtest.API{W: w, Token: secret}).Call(rule.Method, path, body)
				}
			}
			switch rule.Who {
			case "public":
				tries = append(tries, try{who: "visitor", do: page, actor: "staff:"})
			case "editor", "admin":
				tries = append(tries,
					try{who: "editor", do: page, forbid: rule.Who == "admin", actor: "staff:" + editorName},
					try{who: "admin", do: page, actor: "staff:" + identity.FirstAdmin},
					try{who: "visitor", do: page, toLogin: true, noRecord: true})
			default: // API
				no := without[rule.Scope]
				tries = append(tries,
					try{who: no[0], do: api(no[1]), forbid: true, actor: "token:" + no[0]},
					try{who: allScopes, do: api(allSecret), actor: "token:" + allScopes})
			}
			for _, tr := range tries {
				w := s.NewWebClient(t)
				switch tr.who {
				case "editor":
					w.SignIn(editorName, editorPassword).Want(http.StatusSeeOther)
				case "admin":
					w.SignIn(identity.FirstAdmin, testAdminPassword).Want(http.StatusSeeOther)
				case "visitor":
					w.Get("/login").Want(http.StatusOK) // for the CSRF cookie
				}
				before := s.auditLen(t)
				p := tr.do(w)
				switch {
				case tr.forbid && p.Status != http.StatusForbidden:
					t.Errorf("%s: status %d, want 403", tr.who, p.Status)
				case tr.toLogin && (p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login")):
					t.Errorf("%s: status %d to %q, want 303 to /login", tr.who, p.Status, p.Location)
				case !tr.forbid && !tr.toLogin && rule.Who != "public" && (p.Status == http.StatusForbidden || p.Status == http.StatusUnauthorized ||
					strings.HasPrefix(p.Location, "/login") && rule.Path != "/logout"):
					t.Errorf("%s: status %d (to %q), want it let through:\n%s", tr.who, p.Status, p.Location, webtest.Excerpt(p.Body))
				}
				if tr.forbid && rule.Scope == "" && !strings.Contains(p.Body, "Only admins may use this page") {
					t.Errorf("%s: the 403 page does not say why:\n%s", tr.who, webtest.Excerpt(p.Body))
				}
				got, want := s.auditLen(t)-before, 0
				if rule.Changes() && !tr.noRecord {
					want = 1
				}
				if got != want {
					t.Fatalf("%s: %d audit entries written, want %d", tr.who, got, want)
				}
				if want == 1 {
					e := s.newestAudit(t)
					if e.Actor.String() != tr.actor || e.Action != rule.Method+" "+rule.Path {
						t.Errorf("%s: audit entry %+v, want actor %s and action %s %s", tr.who, e, tr.actor, rule.Method, rule.Path)
					}
					if wantForbid := tr.forbid; wantForbid != strings.HasPrefix(e.Outcome, "403 ") {
						t.Errorf("%s: outcome %q with status %d", tr.who, e.Outcome, p.Status)
					}
				}
			}
		})
	}
}
