package responder_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// The protocol tests speak PROTOCOL.md over real TCP with paho.golang as an
// appliance would, against a responder wired as recipesd wires it: the
// real catalog on miniredis through go-redis, loaded with the demo
// catalog, and the real device registry. What needs the whole program
// (flags, the admin UI, the HTTP API, shutdown order) is tested in
// cmd/recipesd.

// registry is the device registry the responder authenticates against.
type registry = identity.Store

var (
	_ responder.Catalog = (*catalog.Store)(nil)
	_ responder.Devices = (*registry)(nil)
)

// openStores opens the catalog on mr with the demo catalog loaded, as a
// first start of recipesd does, and the device registry beside it. Both
// are closed when the test ends, after the responder (cleanups run last
// registered first).
func openStores(tb testing.TB, mr *miniredis.Miniredis, timeout time.Duration) (*catalog.Store, *registry) {
	tb.Helper()
	// go-redis prints every failed dial of the outage tests to stderr.
	quietDriver.Do(func() { redisconn.RouteDriverLogs(slog.New(slog.DiscardHandler)) })
	ctx := context.Background()
	rdb, err := redisconn.New("redis://"+mr.Addr(), timeout)
	if err != nil {
		tb.Fatalf("connect to miniredis: %v", err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	store, err := catalog.Open(ctx, rdb, catalog.Options{Timeout: timeout})
	if err != nil {
		tb.Fatalf("open catalog: %v", err)
	}
	tb.Cleanup(func() {
		if err := store.Close(); err != nil {
			tb.Errorf("close catalog: %v", err)
		}
	})
	demo, err := seed.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.Sync(ctx, demo.Categories, demo.Recipes, catalog.SyncOptions{}); err != nil {
		tb.Fatalf("load demo catalog: %v", err)
	}
	return store, identity.New(rdb, identity.Options{Timeout: timeout})
}

var quietDriver sync.Once

// testServer is a running responder with its stores.
type testServer struct {
	Responder *responder.Responder
	Opts      responder.Options // as given to responder.New
	MQTTAddr  string
	Redis     *miniredis.Miniredis
	Catalog   *catalog.Store
	Registry  *registry

	secrets sync.Map // device id -> secret, of devices MustRegister added
}

// testModel is the model of the devices MustDial registers: it suits every
// demo recipe, so that tests not about models see the whole catalog.
const testModel = "CM-300X"

var deviceSeq atomic.Int64

// mustServe starts a responder on a random loopback port with recipesd's
// defaults, except that devices may send 10,000 requests a second and
// loopback sources are not throttled (every test device is 127.0.0.1).
// change may adjust the options; StoreTimeout bounds the catalog's Redis
// round trips too, as in recipesd.
func mustServe(tb testing.TB, change ...func(*responder.Options)) *testServer {
	tb.Helper()
	return mustServeWith(tb, nil, change...)
}

// mustServeWith is mustServe with the responder asking wrap(the catalog)
// instead of the catalog itself, for tests that watch or adjust what the
// store is asked and answers; nil asks the catalog.
func mustServeWith(tb testing.TB, wrap func(*catalog.Store) responder.Catalog, change ...func(*responder.Options)) *testServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts := responder.Options{
		Listener:               ln,
		StoreTimeout:           800 * time.Millisecond,
		MaxPacketSize:          256 << 10,
		RequestRate:            10000,
		RequestBurst:           10000,
		ThrottleExemptLoopback: true,
		Logger:                 slog.New(slog.DiscardHandler),
	}
	if testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(tb.Output(), nil))
	}
	for _, f := range change {
		f(&opts)
	}
	s := &testServer{Opts: opts, Redis: miniredis.RunT(tb)}
	s.Catalog, s.Registry = openStores(tb, s.Redis, opts.StoreTimeout)
	s.Opts.Devices = s.Registry
	var cat responder.Catalog = s.Catalog
	if wrap != nil {
		cat = wrap(s.Catalog)
	}
	s.Responder = responder.New(cat, s.Opts)
	if err := s.Responder.Start(context.Background()); err != nil {
		_ = ln.Close()
		tb.Fatalf("start responder: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Responder.Close(ctx); err != nil {
			tb.Errorf("close responder: %v", err)
		}
	})
	s.MQTTAddr = s.Responder.Addr()
	return s
}

// MustRegisterLocale adds a device of the given model and locale to the
// registry and returns its secret.
func (s *testServer) MustRegisterLocale(tb testing.TB, id, model, locale string) string {
	tb.Helper()
	secret, err := s.Registry.RegisterDevice(context.Background(), recipes.Device{ID: id, Model: model, Locale: locale})
	if err != nil {
		tb.Fatalf("register device %s: %v", id, err)
	}
	s.secrets.Store(id, secret)
	return secret
}

// MustRegister adds a device of the given model to the registry and
// returns its secret.
func (s *testServer) MustRegister(tb testing.TB, id, model string) string {
	tb.Helper()
	secret, err := s.Registry.AddDevice(context.Background(), id, model)
	if err != nil {
		tb.Fatalf("register device %s: %v", id, err)
	}
	s.secrets.Store(id, secret)
	return secret
}

// MustDial connects a new appliance, with a unique ID unless o names one.
// Unless o.Password is set or the responder admits anonymous devices, it
// registers the device first (or reuses its secret if it did already).
func (s *testServer) MustDial(tb testing.TB, o appliance.Options) *appliance.Client {
	tb.Helper()
	if o.ID == "" {
		o.ID = fmt.Sprintf("oven-%d", deviceSeq.Add(1))
	}
	if o.Password == "" && !s.Opts.AllowAnonymous {
		if secret, ok := s.secrets.Load(o.ID); ok {
			o.Password = secret.(string)
		} else {
			o.Password = s.MustRegister(tb, o.ID, testModel)
		}
	}
	c, err := s.dial(tb, o)
	if err != nil {
		tb.Fatalf("dial %s: %v", o.ID, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// dialResult connects with o and returns the CONNACK reason code (0 on
// success), closing the connection again.
func (s *testServer) dialResult(tb testing.TB, o appliance.Options) byte {
	tb.Helper()
	c, err := s.dial(tb, o)
	switch {
	case err == nil:
		_ = c.Close()
		return 0
	case c == nil || c.Connack == nil:
		tb.Fatalf("dial %s: %v (no CONNACK)", o.ID, err)
	}
	return c.Connack.ReasonCode
}

func (s *testServer) dial(tb testing.TB, o appliance.Options) (*appliance.Client, error) {
	o.Addr = s.MQTTAddr
	return appliance.Dial(testContext(tb, 5*time.Second), o)
}

func testContext(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}

// corruptRecipe overwrites the stored JSON of recipe id with garbage.
func corruptRecipe(tb testing.TB, s *testServer, id string) {
	tb.Helper()
	key := "{" + catalog.DefaultKeyPrefix + "}:pub:rcp:" + id
	if !s.Redis.Exists(key) {
		tb.Fatalf("key %s does not exist; has the key schema changed?", key)
	}
	if err := s.Redis.Set(key, "{not json"); err != nil {
		tb.Fatal(err)
	}
}
