package responder

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

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

func enc(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func lstr(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

func frame(h byte, body ...[]byte) []byte {
	b := enc(body...)
	var l []byte
	for n := len(b); ; {
		c := byte(n % 128)
		if n /= 128; n > 0 {
			c |= 0x80
		}
		l = append(l, c)
		if n == 0 {
			break
		}
	}
	return enc([]byte{h}, l, b)
}

// anonConnect is an MQTT 5 CONNECT without credentials.
func anonConnect(id string) []byte {
	return frame(0x10, lstr("MQTT"), []byte{5, 0x02, 0, 30, 0}, lstr(id))
}

// requestPacket is a QoS 0 request answered on devices/<id>/r.
func requestPacket(id string) []byte {
	props := enc([]byte{0x08}, lstr("devices/"+id+"/r"))
	return frame(0x30, lstr("recipes/categories"), []byte{byte(len(props))}, props)
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

type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// dialDevice connects id anonymously and subscribes it to its replies.
func dialDevice(tb testing.TB, addr, id string) *rawConn {
	tb.Helper()
	return dialSubscribed(tb, addr, id, nil, 0)
}

// dialSubscribed connects id anonymously with the CONNECT properties props
// and subscribes it to devices/<id>/# at qos.
func dialSubscribed(tb testing.TB, addr, id string, props []byte, qos byte) *rawConn {
	tb.Helper()
	c := dialRaw(tb, addr)
	c.write(tb, frame(0x10, lstr("MQTT"), []byte{5, 0x02, 0, 30}, vbi(len(props)), props, lstr(id)))
	if h, body := c.mustRead(tb); h != 0x20 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x", h, body)
	}
	c.write(tb, frame(0x82, []byte{0, 1, 0}, lstr("devices/"+id+"/#"), []byte{qos}))
	if h, _ := c.mustRead(tb); h != 0x90 {
		tb.Fatalf("want SUBACK, got %02x", h)
	}
	return c
}

func (c *rawConn) write(tb testing.TB, b []byte) {
	tb.Helper()
	if _, err := c.Write(b); err != nil {
		tb.Fatal(err)
	}
}

func (c *rawConn) read() (byte, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := c.br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for {
		b, err := c.br.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		mult *= 128
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.br, body)
	return h, body, err
}

func (c *rawConn) mustRead(tb testing.TB) (byte, []byte) {
	tb.Helper()
	h, body, err := c.read()
	if err != nil {
		tb.Fatal(err)
	}
	return h, body
}

// answered sends a request and waits for its reply.
func (c *rawConn) answered(tb testing.TB, id string) {
	tb.Helper()
	c.write(tb, requestPacket(id))
	if h, _ := c.mustRead(tb); h>>4 != 3 {
		tb.Fatalf("want the reply PUBLISH, got %02x", h)
	}
}

// waitClosed reads until the server closes the connection.
func (c *rawConn) waitClosed(tb testing.TB) {
	tb.Helper()
	for {
		_, _, err := c.read()
		var ne net.Error
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return
		case errors.As(err, &ne) && ne.Timeout():
			tb.Fatal("the server did not close the connection")
		default:
			return // reset
		}
	}
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
	by.answered(t, "bystander")
	victim := dialDevice(t, r.Addr(), "victim")
	if got := atomic.LoadInt64(&r.server.Info.ClientsConnected); got != 2 {
		t.Fatalf("mochi counts %d clients, want 2", got)
	}

	victim.write(t, []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'})
	victim.waitClosed(t)

	by.answered(t, "bystander")
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
	again.answered(t, "victim")

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
	victim.write(t, []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'})
	h, body := victim.mustRead(t)
	if h != 0xe0 || len(body) == 0 || body[0] != 0x81 {
		t.Fatalf("got %02x % x, want DISCONNECT 0x81", h, body)
	}
	victim.waitClosed(t)
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
