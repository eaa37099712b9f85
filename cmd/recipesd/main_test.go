package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/cmd/internal/appliance"
)

// testServer is the whole program running on loopback with miniredis.
type testServer struct {
	*Main
	Redis    *miniredis.Miniredis
	MQTTAddr string
	HTTPURL  string
}

var deviceSeq atomic.Int64

func TestMain(m *testing.M) {
	// go-redis prints every failed dial of the outage tests to stderr.
	catalog.RouteDriverLogs(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}

// MustRunMain starts recipesd as the binary would, with the demo catalog in
// a fresh miniredis, on random loopback ports. change may adjust the config.
func MustRunMain(tb testing.TB, change ...func(*Config)) *testServer {
	tb.Helper()
	mr := miniredis.RunT(tb)
	cfg, err := parseServeFlags(nil, func(string) string { return "" }, nil)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.RedisURL = "redis://" + mr.Addr()
	cfg.DeviceRate, cfg.DeviceBurst = 10000, 10000
	for _, f := range change {
		f(&cfg)
	}
	m := &Main{Config: cfg, MQTTListener: mustListen(tb), HTTPListener: mustListen(tb)}
	if testing.Verbose() {
		m.Logger = newLogger(cfg, tbWriter{tb})
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

// MustDial connects a new appliance with a unique ID.
func (s *testServer) MustDial(tb testing.TB, o appliance.Options) *appliance.Client {
	tb.Helper()
	if o.ID == "" {
		o.ID = fmt.Sprintf("oven-%d", deviceSeq.Add(1))
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
