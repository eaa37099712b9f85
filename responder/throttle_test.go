package responder

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/recipesd/recipesd/recipes"
)

// oneDevice knows device "oven-1" with secret "right", and counts how
// often it is asked.
type oneDevice struct{ asked atomic.Int64 }

func (d *oneDevice) AuthenticateDevice(_ context.Context, id, secret string) (recipes.Device, error) {
	d.asked.Add(1)
	if id != "oven-1" || secret != "right" {
		return recipes.Device{}, recipes.ErrBadDeviceCredentials
	}
	return recipes.Device{ID: id, Model: "CM-100", Enabled: true}, nil
}
func (*oneDevice) TouchDevices(context.Context, map[string]time.Time) error { return nil }

// connectFrom connects as oven-1 with secret from local address from (a
// loopback address) over TCP with paho, and returns the CONNACK's reason
// code, or -1 if the server closed the socket without one.
func connectFrom(t *testing.T, r *Responder, from, secret string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.DialContext(ctx, "tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := paho.NewClient(paho.ClientConfig{ClientID: "oven-1", Conn: conn, OnClientError: func(error) {}})
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: "oven-1", KeepAlive: 30, CleanStart: true,
		Username: "oven-1", UsernameFlag: true, Password: []byte(secret), PasswordFlag: true})
	if err == nil {
		_ = c.Disconnect(&paho.Disconnect{})
		<-c.Done()
	}
	switch {
	case ca != nil:
		return int(ca.ReasonCode)
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("connect from %s: no answer: %v", from, err)
	}
	return -1
}

// TestConnectFailuresThrottled: after too many failed authentications
// from one address, its CONNECTs are answered 0x9F without asking the
// registry, right secret or not, while the device still gets in from
// another address at once, and from that one once the window refills.
func TestConnectFailuresThrottled(t *testing.T) {
	devs := &oneDevice{}
	r := mustStart(t, Options{Devices: devs, ConnectFailures: 3, ConnectFailureWindow: 600 * time.Millisecond})
	for i := range 3 {
		if code := connectFrom(t, r, "127.0.0.1", "guess"); code != 0x86 {
			t.Fatalf("guess %d: CONNACK 0x%02x, want 0x86", i, code)
		}
	}
	for _, secret := range []string{"guess", "right"} {
		if code := connectFrom(t, r, "127.0.0.1", secret); code != 0x9F {
			t.Fatalf("%s secret after 3 failures: CONNACK 0x%02x, want 0x9F", secret, code)
		}
	}
	if n := devs.asked.Load(); n != 3 {
		t.Fatalf("the registry was asked %d times, want 3: throttled CONNECTs must not reach it", n)
	}
	// The device is not locked out from its own address by a guesser at
	// another one.
	if code := connectFrom(t, r, "127.0.0.2", "right"); code != 0 {
		t.Fatalf("from another address: CONNACK 0x%02x, want 0", code)
	}
	// Nor for longer than the window: the bucket refills.
	deadline := time.Now().Add(5 * time.Second)
	for code := 0x9F; code != 0; {
		if code = connectFrom(t, r, "127.0.0.1", "right"); code != 0 && code != 0x9F {
			t.Fatalf("after the window: CONNACK 0x%02x", code)
		}
		if time.Now().After(deadline) {
			t.Fatal("still throttled 5 s after the failures")
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := r.Stats()
	if st.ConnectThrottled < 2 || st.AuthRefused < 5 {
		t.Fatalf("stats: %d throttled, %d refused", st.ConnectThrottled, st.AuthRefused)
	}
}

// TestConnectFailuresExemptLoopback: the exemption test harnesses use.
func TestConnectFailuresExemptLoopback(t *testing.T) {
	r := mustStart(t, Options{Devices: &oneDevice{}, ConnectFailures: 1, MaxUnauthenticated: 1, ThrottleExemptLoopback: true})
	for range 3 {
		if code := connectFrom(t, r, "127.0.0.1", "guess"); code != 0x86 {
			t.Fatalf("CONNACK 0x%02x, want 0x86", code)
		}
	}
	if code := connectFrom(t, r, "127.0.0.1", "right"); code != 0 {
		t.Fatalf("CONNACK 0x%02x, want 0", code)
	}
}

// countingHandler counts the records logged at Warn or above.
type countingHandler struct{ n *atomic.Int64 }

func (h countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h countingHandler) Handle(context.Context, slog.Record) error    { h.n.Add(1); return nil }
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h countingHandler) WithGroup(string) slog.Handler                { return h }

// TestUnauthenticatedSocketsCapped: one address may hold only so many
// sockets that have not authenticated; more are closed at once (and
// logged at a bounded rate), other addresses are not affected, and a
// socket that authenticates frees its place.
func TestUnauthenticatedSocketsCapped(t *testing.T) {
	var warned atomic.Int64
	r := mustStart(t, Options{Devices: &oneDevice{}, MaxUnauthenticated: 2, FirstPacketTimeout: time.Minute,
		Logger: slog.New(countingHandler{&warned})})
	unauth := func() int { return r.throttle.Unauthenticated(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}) }
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		idle = append(idle, c)
	}
	eventually(t, "2 unauthenticated sockets", func() bool { return unauth() == 2 })

	const refused = 30
	for i := range refused {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		_ = c.Close()
		var ne net.Error
		if err == nil || errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("socket %d beyond the cap: %v, want it closed at once", i, err)
		}
	}
	if code := connectFrom(t, r, "127.0.0.1", "right"); code != -1 {
		t.Fatalf("a device beyond the cap: CONNACK 0x%02x, want the socket closed", code)
	}
	if code := connectFrom(t, r, "127.0.0.2", "right"); code != 0 {
		t.Fatalf("from another address: CONNACK 0x%02x, want 0", code)
	}
	if st := r.Stats(); st.SocketsRefused != refused+1 {
		t.Fatalf("%d sockets refused, want %d", st.SocketsRefused, refused+1)
	}
	if n := warned.Load(); n == 0 || n > 5 {
		t.Fatalf("%d warnings logged for %d refusals, want a few", n, refused+1)
	}

	_ = idle[0].Close()
	eventually(t, "a place freed", func() bool { return unauth() == 1 })
	if code := connectFrom(t, r, "127.0.0.1", "right"); code != 0 {
		t.Fatalf("with a place free: CONNACK 0x%02x, want 0", code)
	}
	// An admitted device holds no place: it was released at CONNACK, and
	// the idle socket still holds the other.
	if n := unauth(); n != 1 {
		t.Fatalf("%d unauthenticated sockets counted, want 1", n)
	}
}
