package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/admin"
)

func TestAdminSecurityHeaders(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	for _, path := range []string{"/login", "/categories", "/categories/soups", "/recipes/tomato-soup", "/dashboard", "/tokens", "/nope"} {
		p := w.Get(path)
		csp := p.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
		for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Cache-Control": "no-store"} {
			if got := p.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", path, h, got, want)
			}
		}
		// No inline script anywhere: every <script> has a src.
		if regexp.MustCompile(`<script(?:\s+(?:defer|type="[^"]*"))*\s*>`).MatchString(p.Body) || strings.Contains(p.Body, " onclick=") || strings.Contains(p.Body, " style=") {
			t.Errorf("%s: inline script or style", path)
		}
	}
	if w.Get("/favicon.ico").Want(301).Location != "/static/favicon.svg" {
		t.Error("favicon.ico does not lead to the SVG icon")
	}
	w.Get("/static/app.js").Want(200)
	if p := w.Get("/static/style.css").Want(200); !strings.Contains(p.Header.Get("Cache-Control"), "max-age") {
		t.Errorf("static Cache-Control %q", p.Header.Get("Cache-Control"))
	}
}

func TestAdminSecureCookies(t *testing.T) {
	s := MustStartServer(t, func(o *admin.Options) { o.SecureCookies = true })
	w := s.NewWebClient(t)
	p := w.Get("/login").Want(200)
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
}

func TestAdminBodyLimit(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	big := url.Values{"name": {strings.Repeat("x", 2<<20)}}
	w.Post("/categories/new", big).Want(413).Has(t, "too large")

	req, _ := http.NewRequest(http.MethodPost, s.HTTPURL+"/api/categories", strings.NewReader(strings.Repeat(" ", 2<<20)))
	req.Header.Set("Content-Type", "application/json")
	if p := w.Do(req); p.Status != 413 {
		t.Errorf("API: status %d, want 413", p.Status)
	}
}
