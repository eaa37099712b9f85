package responder

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
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
	code, c := stayConnected(t, r, from, secret)
	if c != nil {
		_ = c.Disconnect(&paho.Disconnect{})
		<-c.Done()
	}
	return code
}

// stayConnected is connectFrom for a device that stays connected: it
// returns the client too, nil unless the server accepted it.
func stayConnected(t *testing.T, r *Responder, from, secret string) (int, *paho.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.DialContext(ctx, "tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{ClientID: "oven-1", Conn: conn, OnClientError: func(error) {}})
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: "oven-1", KeepAlive: 30, CleanStart: true,
		Username: "oven-1", UsernameFlag: true, Password: []byte(secret), PasswordFlag: true})
	switch {
	case err == nil:
		t.Cleanup(func() { _ = conn.Close() })
		return int(ca.ReasonCode), c
	case ca != nil:
		_ = conn.Close()
		return int(ca.ReasonCode), nil
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("connect from %s: no answer: %v", from, err)
	}
	_ = conn.Close()
	return -1, nil
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

	// Whichever two sockets the server takes first hold the places; it
	// closes the others at once.
	const refused = 30
	var socks []net.Conn
	for range refused + 2 {
		c, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		socks = append(socks, c)
	}
	eventually(t, "sockets beyond the cap refused", func() bool { return r.Stats().SocketsRefused == refused })
	// Read them all at once: a Read past its deadline fails without
	// looking at the socket.
	errs := make([]error, len(socks))
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	for i, c := range socks {
		_ = c.SetReadDeadline(deadline)
		wg.Go(func() { _, errs[i] = c.Read(make([]byte, 1)) })
	}
	wg.Wait()
	var idle []net.Conn
	for i, err := range errs {
		var ne net.Error
		switch {
		case err == nil:
			t.Fatal("the server wrote to a socket that sent nothing")
		case errors.As(err, &ne) && ne.Timeout():
			idle = append(idle, socks[i])
		}
	}
	if len(idle) != 2 {
		t.Fatalf("%d sockets left open, want 2: the rest closed at once", len(idle))
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
	eventually(t, "a place freed", func() bool { return connectFrom(t, r, "127.0.0.1", "right") == 0 })
	// An admitted device holds no place: it was released at CONNACK. With
	// one connected and the idle socket holding the other place, one more
	// socket still gets in.
	if code, _ := stayConnected(t, r, "127.0.0.1", "right"); code != 0 {
		t.Fatalf("with a place free: CONNACK 0x%02x, want 0", code)
	}
	if code := connectFrom(t, r, "127.0.0.1", "right"); code != 0 {
		t.Fatalf("beside an admitted device: CONNACK 0x%02x, want 0: it holds no place", code)
	}
}
