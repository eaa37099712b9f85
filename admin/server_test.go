package admin_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// Handler tests against the real thing: the admin server started as cmd
// starts it, over the real catalog on miniredis through go-redis, spoken
// to over real HTTP. Tests that need an MQTT device connected, or the
// CLI, are end-to-end tests in cmd/recipesd.

func TestMain(m *testing.M) {
	// go-redis prints every failed dial to stderr.
	redisconn.RouteDriverLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// testAdminPassword is the first admin's password in MustStartServer.
const testAdminPassword = "correct-horse-battery"

// registry names the identity store apart from the catalog's, so that
// both can be embedded in what admin.New is given.
type registry = identity.Store

// adminStore is what admin.New is given: the catalog and the identities.
type adminStore struct {
	*catalog.Store
	*registry
}

// testServer is the admin server over a real catalog.
type testServer struct {
	Admin    *admin.Server
	Store    *catalog.Store
	Identity *identity.Store
	Audit    *audit.Log
	Redis    *miniredis.Miniredis
	Options  admin.Options
	HTTPURL  string
}

// demoDevice is registered by MustStartServer, as a first start does.
const demoDevice = "demo-oven"

// MustStartServer starts the admin server on a random loopback port over
// a fresh miniredis holding the demo catalog, the demo device and the
// first admin (password testAdminPassword). change may adjust the options.
func MustStartServer(tb testing.TB, change ...func(*admin.Options)) *testServer {
	tb.Helper()
	ctx := context.Background()
	mr := miniredis.RunT(tb)
	rdb, err := redisconn.New("redis://"+mr.Addr(), 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	cat, err := catalog.Open(ctx, rdb, catalog.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cat.Close() })
	ids := identity.New(rdb, identity.Options{PasswordCost: bcrypt.MinCost})
	demo, err := seed.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cat.Sync(ctx, demo.Categories, demo.Recipes, catalog.SyncOptions{}); err != nil {
		tb.Fatal(err)
	}
	if _, err := ids.AddDevice(ctx, demoDevice, "CM-300X"); err != nil {
		tb.Fatal(err)
	}
	if _, _, err := ids.EnsureAdmin(ctx, testAdminPassword); err != nil {
		tb.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	log := audit.New(rdb, audit.Options{})
	opts := admin.Options{Listener: ln, SessionIdle: 30 * time.Minute, Previews: newTestPreviews(cat, 0), Audit: log}
	for _, f := range change {
		f(&opts)
	}
	srv := admin.New(adminStore{cat, ids}, opts)
	if err := srv.Start(ctx); err != nil {
		_ = ln.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := srv.Close(context.Background()); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return &testServer{Admin: srv, Store: cat, Identity: ids, Audit: log, Redis: mr, Options: opts, HTTPURL: "http://" + srv.Addr()}
}

// NewWebClient returns a browser without JavaScript for the server.
func (s *testServer) NewWebClient(tb testing.TB) *webtest.Client {
	tb.Helper()
	return webtest.NewClient(tb, s.HTTPURL)
}

// MustSignIn returns a client signed in as the first admin.
func (s *testServer) MustSignIn(tb testing.TB) *webtest.Client {
	tb.Helper()
	w := s.NewWebClient(tb)
	w.SignIn(identity.FirstAdmin, testAdminPassword).Want(303)
	return w
}

// reply is what an appliance asking on a request topic gets.
type reply struct {
	Status int
	ETag   string
	Data   json.RawMessage
}

// MustAsk answers topic ("recipes/categories", "recipes/<category>" or
// "recipes/<category>/<recipe>") from what the catalog publishes, through
// the lookup the responder answers appliances with: a 200 with the
// document, or a 404. That the responder turns it into an MQTT reply is
// the responder's tests' business.
func (s *testServer) MustAsk(tb testing.TB, topic string) reply {
	tb.Helper()
	var q recipes.Query
	if rest := strings.TrimPrefix(topic, "recipes/"); rest != "categories" {
		q.Category, q.RecipeID, _ = strings.Cut(rest, "/")
	}
	if err := q.Validate(); err != nil {
		tb.Fatalf("ask %s: %v", topic, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	doc, err := s.Store.Find(ctx, q)
	switch {
	case recipes.ErrorCode(err) == recipes.ENOTFOUND:
		return reply{Status: 404}
	case err != nil:
		tb.Fatalf("ask %s: %v", topic, err)
	}
	return reply{Status: 200, ETag: doc.ETag, Data: doc.Data}
}
