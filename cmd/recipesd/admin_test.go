package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// End-to-end tests of the admin server that need the whole program: an
// MQTT device connected (kicked, counted, commanded) or the CLI. admin's
// own handler tests run in package admin over the real catalog.

// testAdminPassword is the first admin's password in MustRunMain.
const testAdminPassword = "correct-horse-battery"

type (
	webClient = webtest.Client
	webPage   = webtest.Page
)

func (s *testServer) NewWebClient(tb testing.TB) *webClient {
	tb.Helper()
	return webtest.NewClient(tb, s.HTTPURL)
}

// MustSignIn returns a client signed in as the first admin.
func (s *testServer) MustSignIn(tb testing.TB) *webClient {
	tb.Helper()
	w := s.NewWebClient(tb)
	w.SignIn(identity.FirstAdmin, testAdminPassword).Want(303)
	return w
}

// MustToken creates an API token in the UI and returns its secret. It has
// the scopes given, or every scope.
func (s *testServer) MustToken(tb testing.TB, w *webClient, name string, scopes ...string) string {
	tb.Helper()
	return webtest.MustToken(tb, w, name, scopes...)
}

func excerpt(s string) string { return webtest.Excerpt(s) }

// randomName returns a fresh slug-safe name.
func randomName(prefix string) string { return webtest.RandomName(prefix) }

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
