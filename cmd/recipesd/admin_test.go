package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cmd/internal/appliance"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

// Handler tests of the admin server, run against the whole program with a
// real catalog on miniredis (admin's own tests use a fake store).

// testAdminPassword is the first admin's password in MustRunMain.
const testAdminPassword = "correct-horse-battery"

// webClient is a browser without JavaScript: it keeps cookies, does not
// follow redirects, and puts the CSRF token into every form it posts.
type webClient struct {
	tb   testing.TB
	base *url.URL
	http *http.Client
}

// webPage is one response.
type webPage struct {
	tb       testing.TB
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (s *testServer) NewWebClient(tb testing.TB) *webClient {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	u, err := url.Parse(s.HTTPURL)
	if err != nil {
		tb.Fatal(err)
	}
	return &webClient{tb: tb, base: u, http: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// MustSignIn returns a client signed in as the first admin.
func (s *testServer) MustSignIn(tb testing.TB) *webClient {
	tb.Helper()
	w := s.NewWebClient(tb)
	w.SignIn(identity.FirstAdmin, testAdminPassword).Want(303)
	return w
}

func (w *webClient) SignIn(name, password string) *webPage {
	w.tb.Helper()
	w.Get("/login").Want(200)
	return w.Post("/login", url.Values{"name": {name}, "password": {password}})
}

func (w *webClient) Do(req *http.Request) *webPage {
	w.tb.Helper()
	resp, err := w.http.Do(req)
	if err != nil {
		w.tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.tb.Fatal(err)
	}
	return &webPage{tb: w.tb, Status: resp.StatusCode, Header: resp.Header, Body: string(b), Location: resp.Header.Get("Location")}
}

func (w *webClient) Get(path string) *webPage {
	w.tb.Helper()
	req, err := http.NewRequest(http.MethodGet, w.base.String()+path, nil)
	if err != nil {
		w.tb.Fatal(err)
	}
	return w.Do(req)
}

// Post posts form with the CSRF token of the client's cookie.
func (w *webClient) Post(path string, form url.Values) *webPage {
	w.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("_csrf") {
		form.Set("_csrf", w.Cookie("recipesd_csrf"))
	}
	return w.PostRaw(path, form, nil)
}

// PostRaw posts form as it is, with extra headers.
func (w *webClient) PostRaw(path string, form url.Values, header http.Header) *webPage {
	w.tb.Helper()
	req, err := http.NewRequest(http.MethodPost, w.base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return w.Do(req)
}

// Cookie returns the value of the client's cookie name ("" if none).
func (w *webClient) Cookie(name string) string {
	for _, c := range w.http.Jar.Cookies(w.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Want fails the test unless the page has the status.
func (p *webPage) Want(status int) *webPage {
	p.tb.Helper()
	if p.Status != status {
		p.tb.Fatalf("status %d, want %d; location %q; body:\n%s", p.Status, status, p.Location, excerpt(p.Body))
	}
	return p
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main>"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

// Text returns the page's visible text, roughly: tags dropped, entities
// decoded, white space collapsed.
func (p *webPage) Text() string {
	s := regexp.MustCompile(`(?s)<head>.*</head>|<[^>]*>`).ReplaceAllString(p.Body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// Has fails the test unless the visible text contains each of want.
func (p *webPage) Has(tb testing.TB, want ...string) *webPage {
	tb.Helper()
	text := p.Text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			tb.Fatalf("page lacks %q; text:\n%s", w, text)
		}
	}
	return p
}

// FieldError returns the error message shown next to the form field
// named field: the paragraph with the id field+"-error", or else the first
// field-error paragraph after the field and before the next field.
func (p *webPage) FieldError(field string) string {
	if m := regexp.MustCompile(`(?s)<p class="field-error" id="` + regexp.QuoteMeta(field) + `-error">(.*?)</p>`).FindStringSubmatch(p.Body); m != nil {
		return html.UnescapeString(m[1])
	}
	i := strings.Index(p.Body, `name="`+field+`"`)
	if i < 0 {
		i = strings.Index(p.Body, `id="`+field+`"`)
	}
	if i < 0 {
		return ""
	}
	rest := p.Body[i+len(field):]
	next := regexp.MustCompile(` name="[^"]+"`).FindStringIndex(rest)
	if next != nil {
		rest = rest[:next[0]]
	}
	m := regexp.MustCompile(`(?s)<p class="field-error"[^>]*>(.*?)</p>`).FindStringSubmatch(rest)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// Flash returns the flash message shown, if any.
func (p *webPage) Flash() string {
	m := regexp.MustCompile(`(?s)<div class="flash[^"]*" role="status">(.*?)</div>`).FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// MustAsk asks for topic as a fresh appliance.
func (s *testServer) MustAsk(tb testing.TB, topic string) *appliance.Reply {
	tb.Helper()
	dev := s.MustDial(tb, appliance.Options{})
	r, err := dev.Get(testContext(tb, 5*time.Second), topic, nil)
	if err != nil {
		tb.Fatalf("ask %s: %v", topic, err)
	}
	return r
}

func TestAdminSignIn(t *testing.T) {
	s := MustRunMain(t)
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
		w.http.Jar.SetCookies(w.base, []*http.Cookie{planted})
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
		replay.http.Jar.SetCookies(replay.base, []*http.Cookie{{Name: "recipesd_session", Value: id, Path: "/"}})
		replay.Get("/categories").Want(303)
		w.Get("/login").Want(200).Has(t, "You are signed out.")
	})
	t.Run("IdleExpiry", func(t *testing.T) {
		w := s.MustSignIn(t)
		w.Get("/categories").Want(200)
		s.Redis.FastForward(s.Config.SessionIdle + time.Second)
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
	s := MustRunMain(t)
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
	s := MustRunMain(t)
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

func TestAdminSecurityHeaders(t *testing.T) {
	s := MustRunMain(t)
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
	s := MustRunMain(t, func(c *Config) { c.SecureCookies = true })
	w := s.NewWebClient(t)
	p := w.Get("/login").Want(200)
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if !c.Secure || !c.HttpOnly {
			t.Errorf("cookie %s: Secure %v HttpOnly %v", c.Name, c.Secure, c.HttpOnly)
		}
	}
}

func TestAdminBodyLimit(t *testing.T) {
	s := MustRunMain(t)
	w := s.MustSignIn(t)
	big := url.Values{"name": {strings.Repeat("x", 2<<20)}}
	w.Post("/categories/new", big).Want(413).Has(t, "too large")

	req, _ := http.NewRequest(http.MethodPost, s.HTTPURL+"/api/categories", strings.NewReader(strings.Repeat(" ", 2<<20)))
	req.Header.Set("Content-Type", "application/json")
	if p := w.Do(req); p.Status != 413 {
		t.Errorf("API: status %d, want 413", p.Status)
	}
}

func TestAdminHealthAndMetrics(t *testing.T) {
	s := MustRunMain(t)
	w := s.NewWebClient(t)
	w.Get("/healthz").Want(200)
	w.Get("/readyz").Want(200)
	if r := s.MustAsk(t, "recipes/categories"); r.Status != 200 {
		t.Fatal(r)
	}
	s.MustAsk(t, "recipes/no-such-category")

	// The counters tell the fleet's size and traffic: not to everyone.
	ctx := context.Background()
	scrape := func(t *testing.T, scopes ...string) *webPage {
		t.Helper()
		name := randomName("scraper")
		token, err := s.Identity.CreateAPIToken(ctx, name, "test", scopes)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, s.HTTPURL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		return s.NewWebClient(t).Do(req)
	}
	t.Run("ErrAnonymous", func(t *testing.T) {
		p := s.NewWebClient(t).Get("/metrics").Want(401)
		if strings.Contains(p.Body, "recipesd_") || p.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous /metrics: %s %v", p.Body, p.Header)
		}
	})
	t.Run("ErrTokenWithoutScope", func(t *testing.T) {
		scrape(t, recipes.ScopeCatalog, recipes.ScopeDevices, recipes.ScopeCommands).Want(403).Has(t, `needs the \"metrics\" scope`)
	})
	t.Run("ErrBadToken", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, s.HTTPURL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer rcpd_not-a-token")
		s.MustSignIn(t).Do(req).Want(401) // a wrong token is not saved by a session
	})
	scrape(t, recipes.ScopeMetrics).Want(200).Has(t, "recipesd_requests_total")

	w = s.MustSignIn(t) // staff see them too
	var p *webPage
	for range 100 { // the reply is counted just after it is sent
		if p = w.Get("/metrics").Want(200); strings.Contains(p.Body, "recipesd_reply_latency_seconds_count 2") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, want := range []string{
		"# TYPE recipesd_requests_total counter", "recipesd_requests_total 2",
		`recipesd_replies_total{status="200"} 1`, `recipesd_replies_total{status="404"} 1`,
		`recipesd_reply_latency_seconds_bucket{le="+Inf"} 2`, "recipesd_reply_latency_seconds_count 2",
		"# TYPE recipesd_connected_appliances gauge", "recipesd_catalog_up 1",
	} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, p.Body)
		}
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q", ct)
	}
	d := s.MustSignIn(t).Get("/dashboard").Want(200).Has(t, "Requests since start", "Connected appliances", "Replies by status", "Reply latency")
	if strings.Count(d.Body, "<svg") != 4 {
		t.Errorf("dashboard has %d charts, want 4", strings.Count(d.Body, "<svg"))
	}
}

// randomName returns a fresh slug-safe name.
func randomName(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()[:8]) }

// decodeJSON decodes a response body.
func decodeJSON[T any](tb testing.TB, p *webPage) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(p.Body), &v); err != nil {
		tb.Fatalf("decode %s: %v", p.Body, err)
	}
	return v
}
