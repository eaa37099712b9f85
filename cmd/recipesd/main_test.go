package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redisconn"
)

// testServer is the whole program running on loopback with miniredis.
type testServer struct {
	*Main
	Redis    *miniredis.Miniredis
	MQTTAddr string
	HTTPURL  string

	mu      sync.Mutex
	secrets map[string]string // device id -> secret, of devices MustDial registered
}

var deviceSeq atomic.Int64

func TestMain(m *testing.M) {
	// go-redis prints every failed dial of the outage tests to stderr.
	redisconn.RouteDriverLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// MustRunMain starts recipesd as the binary would, with the demo catalog in
// a fresh miniredis, on random loopback ports. change may adjust the config.
func MustRunMain(tb testing.TB, change ...func(*Config)) *testServer {
	tb.Helper()
	return MustRunMainLogged(tb, verboseLogs(tb), change...)
}

// verboseLogs is where a test server logs: the test's log with -v, else
// nowhere.
func verboseLogs(tb testing.TB) io.Writer {
	if testing.Verbose() {
		return tbWriter{tb}
	}
	return nil
}

// MustRunMainLogged is [MustRunMain] with the server's log written to logs.
func MustRunMainLogged(tb testing.TB, logs io.Writer, change ...func(*Config)) *testServer {
	tb.Helper()
	return mustRunMainOn(tb, miniredis.RunT(tb), logs, change...)
}

// MustRunMainOn is [MustRunMain] on the Redis of another test server: a
// second node of its cluster.
func MustRunMainOn(tb testing.TB, mr *miniredis.Miniredis, change ...func(*Config)) *testServer {
	tb.Helper()
	return mustRunMainOn(tb, mr, verboseLogs(tb), change...)
}

var nodeSeq atomic.Int64

func mustRunMainOn(tb testing.TB, mr *miniredis.Miniredis, logs io.Writer, change ...func(*Config)) *testServer {
	tb.Helper()
	cfg, err := parseServeFlags(nil, func(string) string { return "" }, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RedisURL = "redis://" + mr.Addr()
	cfg.DataDir = tb.TempDir() // where the secrets file goes
	cfg.DeviceRate, cfg.DeviceBurst = 10000, 10000
	cfg.ExemptLoopback = true // every test device connects from 127.0.0.1
	cfg.AdminPassword, cfg.PasswordCost = testAdminPassword, bcrypt.MinCost
	cfg.NodeID = fmt.Sprintf("node-%d", nodeSeq.Add(1)) // servers of one test share the host name
	for _, f := range change {
		f(&cfg)
	}
	m := &Main{Config: cfg, MQTTListener: mustListen(tb), HTTPListener: mustListen(tb)}
	if logs != nil {
		m.Logger = newLogger(cfg, logs)
	}
	if err := m.Run(context.Background()); err != nil {
		_ = m.Close()
		tb.Fatalf("run: %v", err)
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return &testServer{Main: m, Redis: mr, MQTTAddr: m.Responder.Addr(), HTTPURL: "http://" + m.Admin.Addr()}
}

func mustListen(tb testing.TB) net.Listener {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return ln
}

type tbWriter struct{ tb testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// MustRegister adds a device of the given model to the server's registry
// and returns its secret.
func (s *testServer) MustRegister(tb testing.TB, id, model string) string {
	tb.Helper()
	secret, err := s.Identity.AddDevice(context.Background(), id, model)
	if err != nil {
		tb.Fatalf("register device %s: %v", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]string{}
	}
	s.secrets[id] = secret
	return secret
}

// testModel is the model of the devices MustDial registers: it suits every
// demo recipe, so that tests not about models see the whole catalog.
const testModel = "CM-300X"

// MustDial connects a new appliance with a unique ID. Unless o.Password is
// set or the server admits anonymous devices, it registers the device
// first (or reuses its secret if it did already).
func (s *testServer) MustDial(tb testing.TB, o appliance.Options) *appliance.Client {
	tb.Helper()
	if o.ID == "" {
		o.ID = fmt.Sprintf("oven-%d", deviceSeq.Add(1))
	}
	if o.Password == "" && !s.Config.AllowAnonymous {
		s.mu.Lock()
		secret, ok := s.secrets[o.ID]
		s.mu.Unlock()
		if !ok {
			secret = s.MustRegister(tb, o.ID, testModel)
		}
		o.Password = secret
	}
	o.Addr = s.MQTTAddr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := appliance.Dial(ctx, o)
	if err != nil {
		tb.Fatalf("dial %s: %v", o.ID, err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

func testContext(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
