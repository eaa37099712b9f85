package admin_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

func TestAdminSignIn(t *testing.T) {
	s := MustStartServer(t)
	t.Run("OK", func(t *testing.T) {
		w := s.NewWebClient(t)
		w.Get("/categories").Want(303)
		p := w.SignIn("admin", testAdminPassword).Want(303)
		if p.Location != "/categories" {
			t.Errorf("redirect to %q", p.Location)
		}
		var sess *http.Cookie
		for _, c := range (&http.Response{Header: p.Header}).Cookies() {
			if c.Name == "recipesd_session" {
				sess = c
			}
		}
		if sess == nil || !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Secure {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", sess)
		}
		w.Get("/categories").Want(200).Has(t, "Soups", "Sign out")
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		w := s.NewWebClient(t)
		p := w.SignIn("admin", "not-the-password").Want(401).Has(t, "Wrong name or password.")
		if !strings.Contains(p.Body, `value="admin"`) {
			t.Error("the form forgot the name")
		}
	})
	t.Run("ErrUnknownName", func(t *testing.T) {
		s.NewWebClient(t).SignIn("nobody", testAdminPassword).Want(401).Has(t, "Wrong name or password.")
	})
	t.Run("RedirectsBack", func(t *testing.T) {
		w := s.NewWebClient(t)
		p := w.Get("/categories/soups?q=tomato").Want(303)
		if p.Location != "/login?next=%2Fcategories%2Fsoups%3Fq%3Dtomato" {
			t.Fatalf("redirect to %q", p.Location)
		}
		w.Get(p.Location).Want(200)
		p = w.Post("/login", url.Values{"name": {"admin"}, "password": {testAdminPassword}, "next": {"/categories/soups?q=tomato"}}).Want(303)
		if p.Location != "/categories/soups?q=tomato" {
			t.Fatalf("after sign-in: %q", p.Location)
		}
	})
	t.Run("NoOpenRedirect", func(t *testing.T) {
		// Each is next as the server sees it, query-decoded; a browser would
		// take every one to another origin (or run it), or split the header.
		tests := []struct{ name, next string }{
			{"tab", "/\t/evil.example/x"},
			{"encoded tab", "/%09/evil.example/x"},
			{"backslash", "/\\evil.example"},
			{"backslash first", "\\/evil.example"},
			{"double slash", "//evil.example/"},
			{"encoded slash", "/%2F/evil.example"},
			{"double-encoded slash", "/%252F/evil.example"},
			{"encoded backslash", "/%5Cevil.example"},
			{"scheme", "https://evil.example/"},
			{"scheme without slashes", "https:evil.example"},
			{"javascript", "javascript:alert(1)"},
			{"CRLF", "/\r\nSet-Cookie: a=b"},
			{"encoded CRLF", "/%0d%0aSet-Cookie:%20a=b"},
			{"leading spaces", "  //evil.example"},
			{"leading space", " /categories"},
			{"newline inside", "/\n/evil.example"},
			{"NUL", "/\x00/evil.example"},
			{"non-ASCII space", "/\u3000/evil.example"},
			{"user info", "//user@evil.example"},
			{"relative", "evil.example"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// GET, not signed in: the form must not carry next on.
				w := s.NewWebClient(t)
				p := w.Get("/login?next=" + url.QueryEscape(tt.next)).Want(200)
				if m := regexp.MustCompile(`name="next" value="([^"]*)"`).FindStringSubmatch(p.Body); m == nil || m[1] != "" {
					t.Errorf("GET: the form carries next %q", m)
				}
				// POST: after a successful sign-in, to the start page.
				p = w.Post("/login", url.Values{"name": {"admin"}, "password": {testAdminPassword}, "next": {tt.next}}).Want(303)
				if p.Location != "/categories" {
					t.Errorf("POST: redirected to %q", p.Location)
				}
				// GET, signed in: straight to the start page.
				if p := w.Get("/login?next=" + url.QueryEscape(tt.next)).Want(303); p.Location != "/categories" {
					t.Errorf("GET signed in: redirected to %q", p.Location)
				}
			})
		}
		t.Run("OKLocalPaths", func(t *testing.T) {
			for _, next := range []string{"/dashboard", "/recipes/tomato-soup", "/categories/soups?q=tomato&page=2", "/tokens#new"} {
				w := s.NewWebClient(t)
				p := w.Get("/login?next=" + url.QueryEscape(next)).Want(200)
				if !strings.Contains(p.Body, `name="next" value="`+html.EscapeString(next)+`"`) {
					t.Errorf("GET %s: the form lost next", next)
				}
				if p := w.Post("/login", url.Values{"name": {"admin"}, "password": {testAdminPassword}, "next": {next}}).Want(303); p.Location != next {
					t.Errorf("POST next=%q: redirected to %q", next, p.Location)
				}
			}
		})
	})
	t.Run("NewSessionIDAtSignIn", func(t *testing.T) {
		w := s.NewWebClient(t)
		planted := &http.Cookie{Name: "recipesd_session", Value: "planted-by-an-attacker", Path: "/"}
		w.HTTP.Jar.SetCookies(w.Base, []*http.Cookie{planted})
		w.SignIn("admin", testAdminPassword).Want(303)
		if got := w.Cookie("recipesd_session"); got == "" || got == planted.Value {
			t.Fatalf("session id %q after sign-in", got)
		}
	})
	t.Run("SignOutEndsTheSessionOnTheServer", func(t *testing.T) {
		w := s.MustSignIn(t)
		id := w.Cookie("recipesd_session")
		w.Post("/logout", nil).Want(303)
		replay := s.NewWebClient(t)
		replay.HTTP.Jar.SetCookies(replay.Base, []*http.Cookie{{Name: "recipesd_session", Value: id, Path: "/"}})
		replay.Get("/categories").Want(303)
		w.Get("/login").Want(200).Has(t, "You are signed out.")
	})
	t.Run("IdleExpiry", func(t *testing.T) {
		w := s.MustSignIn(t)
		w.Get("/categories").Want(200)
		s.Redis.FastForward(s.Options.SessionIdle + time.Second)
		p := w.Get("/categories").Want(303)
		w.Get(p.Location).Want(200).Has(t, "Your session has ended")
	})
	t.Run("PasswordChangeEndsSessions", func(t *testing.T) {
		w := s.MustSignIn(t)
		if _, err := s.Identity.SetPassword(context.Background(), "admin", testAdminPassword); err != nil {
			t.Fatal(err)
		}
		w.Get("/categories").Want(303)
	})
}

func TestAdminCSRF(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	form := func() url.Values { return url.Values{"name": {"Salads"}, "slug": {"salads"}} }
	t.Run("ErrMissingToken", func(t *testing.T) {
		w.PostRaw("/categories/new", form(), nil).Want(403).Has(t, "This form has expired or was sent from another site")
	})
	t.Run("ErrWrongToken", func(t *testing.T) {
		f := form()
		f.Set("_csrf", "not-the-token")
		w.PostRaw("/categories/new", f, nil).Want(403)
	})
	t.Run("ErrCrossSite", func(t *testing.T) {
		f := form()
		f.Set("_csrf", w.Cookie("recipesd_csrf"))
		w.PostRaw("/categories/new", f, http.Header{"Sec-Fetch-Site": {"cross-site"}}).Want(403)
	})
	t.Run("ErrSignIn", func(t *testing.T) {
		s.NewWebClient(t).PostRaw("/login", url.Values{"name": {"admin"}, "password": {testAdminPassword}}, nil).Want(403)
	})
	t.Run("ErrSignOut", func(t *testing.T) {
		w.PostRaw("/logout", url.Values{}, nil).Want(403)
		w.Get("/categories").Want(200)
	})
	if _, err := s.Store.EditorCategory(context.Background(), "salads"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("a rejected form changed the catalog: %v", err)
	}
	t.Run("OK", func(t *testing.T) {
		w.Post("/categories/new", form()).Want(303)
	})
	t.Run("OKSameOriginBrowser", func(t *testing.T) {
		f := url.Values{"name": {"Stews"}}
		w.PostRaw("/categories/new", f, http.Header{"Sec-Fetch-Site": {"same-origin"}}).Want(303)
	})
}

func TestAdminLoginRateLimit(t *testing.T) {
	s := MustStartServer(t)
	if _, err := s.Identity.AddStaff(context.Background(), "bob", "bobs-own-password"); err != nil {
		t.Fatal(err)
	}
	w := s.NewWebClient(t)
	w.Get("/login").Want(200)
	token := w.Cookie("recipesd_csrf")
	// Forwarding headers are the client's to invent: the limit is the TCP
	// peer's, and all of these come from 127.0.0.1.
	spoof := func(i int) http.Header {
		return http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.100.%d", i)}, "X-Real-Ip": {fmt.Sprintf("203.0.113.%d", i)}, "Forwarded": {fmt.Sprintf("for=192.0.2.%d", i)}}
	}
	for i := range 10 {
		w.PostRaw("/login", url.Values{"_csrf": {token}, "name": {"admin"}, "password": {"guess"}}, spoof(i)).Want(401)
	}
	p := w.PostRaw("/login", url.Values{"_csrf": {token}, "name": {"admin"}, "password": {testAdminPassword}}, spoof(77))
	p.Want(429).Has(t, "Too many failed sign-ins for this account from your address")
	if p.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	// Someone else behind the same address signs in to their own account.
	bob := s.NewWebClient(t)
	bob.SignIn("bob", "bobs-own-password").Want(303)
}
