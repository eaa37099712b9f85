package responder

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
)

// These tests speak raw MQTT 5 to a responder on loopback: they must send
// what no client library would.

// staticCatalog answers every query with the same document.
type staticCatalog struct{}

var _ Catalog = staticCatalog{}

func (staticCatalog) FindCached(recipes.Query) (recipes.Document, error) {
	return recipes.Document{ETag: "0123456789abcdef", Data: []byte(`{"items":[]}`)}, nil
}

func (c staticCatalog) Find(_ context.Context, q recipes.Query) (recipes.Document, error) {
	return c.FindCached(q)
}

// mustStart runs a responder admitting anonymous devices on loopback.
func mustStart(tb testing.TB, opts Options) *Responder {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts.Listener = ln
	opts.AllowAnonymous = true
	r := New(staticCatalog{}, opts)
	if err := r.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return r
}

// lockedBuffer collects log output from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) contains(s string) bool { return strings.Contains(l.String(), s) }

func newTestLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// rawConn is a device speaking raw MQTT 5, with the reads and writes of
// [mqtttest.Conn] and the exchanges of the tests in this package.
type rawConn struct{ *mqtttest.Conn }

// dialDevice connects id anonymously and subscribes it to its replies.
func dialDevice(tb testing.TB, addr, id string) *rawConn {
	tb.Helper()
	return dialSubscribed(tb, addr, id, nil, 0)
}

// dialSubscribed connects id anonymously with the CONNECT properties props
// and subscribes it to devices/<id>/# at qos.
func dialSubscribed(tb testing.TB, addr, id string, props []byte, qos byte) *rawConn {
	tb.Helper()
	return &rawConn{mqtttest.DialDevice(tb, addr, id, props, qos)}
}

// TestRecoverAfterMochiPanic proves the last line of defence: with the
// packet checks off, mochi v2.7.9's decoder panics on a truncated MQTT 5
// SUBSCRIBE (called by subscribe.go now, as it was by mochi's own read
// loop before); the process survives, only that connection closes, mochi's
// and the responder's books are put straight, other devices keep being
// answered and the victim can reconnect.
func TestRecoverAfterMochiPanic(t *testing.T) {
	noLeaks(t)
	r := mustStart(t, Options{noPacketChecks: true})
	by := dialDevice(t, r.Addr(), "bystander")
	by.Answered(t, "bystander")
	victim := dialDevice(t, r.Addr(), "victim")
	if got := atomic.LoadInt64(&r.server.Info.ClientsConnected); got != 2 {
		t.Fatalf("mochi counts %d clients, want 2", got)
	}

	victim.Send(t, []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'})
	victim.WaitClosed(t)

	by.Answered(t, "bystander")
	// The connection closes a moment before the recover has run.
	eventually(t, "the panic is recovered", func() bool { return r.Stats().Recovered == 1 })
	if st := r.Stats(); st.Connected != 1 {
		t.Fatalf("connected %d, want 1", st.Connected)
	}
	if _, ok := r.server.Clients.Get("victim"); ok {
		t.Fatal("the panicked client is still in mochi's client list")
	}
	if r.devices.Get("victim") != nil {
		t.Fatal("the panicked client's session is still in the device registry")
	}
	if got := atomic.LoadInt64(&r.server.Info.ClientsConnected); got != 1 {
		t.Fatalf("mochi counts %d clients, want 1", got)
	}
	again := dialDevice(t, r.Addr(), "victim")
	again.Answered(t, "victim")

}

// noLeaks checks, after everything else the test registered has been
// cleaned up, that no goroutine it started is left.
func noLeaks(t *testing.T) {
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPacketChecksStopMochiPanic: with the checks on, the same packet is
// refused with DISCONNECT 0x81 before mochi decodes it: nothing panics.
func TestPacketChecksStopMochiPanic(t *testing.T) {
	noLeaks(t)
	r := mustStart(t, Options{})
	victim := dialDevice(t, r.Addr(), "victim")
	victim.Send(t, []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'})
	h, body := victim.MustRead(t)
	if h != 0xe0 || len(body) == 0 || body[0] != 0x81 {
		t.Fatalf("got %02x % x, want DISCONNECT 0x81", h, body)
	}
	victim.WaitClosed(t)
	eventually(t, "the connection is counted off", func() bool { return r.Stats().Connected == 0 })
	if st := r.Stats(); st.Recovered != 0 || st.Malformed != 1 {
		t.Fatalf("recovered %d, malformed %d; want 0, 1", st.Recovered, st.Malformed)
	}
}

// TestCloseEndsUnfinishedConnections: a socket that has not sent CONNECT
// does not hold up shutdown until its first-packet deadline.
func TestCloseEndsUnfinishedConnections(t *testing.T) {
	noLeaks(t)
	r := mustStart(t, Options{FirstPacketTimeout: time.Minute})
	nc, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write([]byte{0x10}); err != nil { // half a fixed header
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Close took %v", took)
	}
}

// TestAnonymousModeWarns: the development mode says so loudly at start.
func TestAnonymousModeWarns(t *testing.T) {
	var logs lockedBuffer
	mustStart(t, Options{Logger: newTestLogger(&logs)})
	if !logs.contains("level=WARN") || !logs.contains("ANONYMOUS DEVICES ALLOWED") {
		t.Fatalf("no warning at start:\n%s", logs.String())
	}
}
