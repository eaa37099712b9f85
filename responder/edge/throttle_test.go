package edge

import (
	"log/slog"
	"net"
	"testing"
	"time"
)

// TestThrottleSources: IPv4 sources are addresses, IPv6 sources /64s,
// loopback is exempt only when asked.
func TestThrottleSources(t *testing.T) {
	tests := []struct {
		ip     string
		exempt bool
		want   string
		ok     bool
	}{
		{"192.0.2.7", false, "192.0.2.7", true},
		{"::ffff:192.0.2.7", false, "192.0.2.7", true},
		{"2001:db8:1:2:aaaa::1", false, "2001:db8:1:2::/64", true},
		{"2001:db8:1:2:bbbb::9", false, "2001:db8:1:2::/64", true},
		{"2001:db8:1:3::1", false, "2001:db8:1:3::/64", true},
		{"127.0.0.1", false, "127.0.0.1", true},
		{"127.0.0.1", true, "", false},
		{"::1", true, "", false},
	}
	for _, tt := range tests {
		th := NewThrottle(ThrottleOptions{Failures: 30, Window: time.Minute, MaxUnauth: 100, ExemptLoopback: tt.exempt}, slog.New(slog.DiscardHandler))
		got, ok := th.source(&net.TCPAddr{IP: net.ParseIP(tt.ip)})
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s (exempt %v): %q %v, want %q %v", tt.ip, tt.exempt, got, ok, tt.want, tt.ok)
		}
	}
}

// TestThrottleMemoryBounded: failures from ever new addresses do not grow
// the throttle's memory past its bound, and a source's entry goes once its
// bucket has refilled.
func TestThrottleMemoryBounded(t *testing.T) {
	th := NewThrottle(ThrottleOptions{Failures: 30, Window: 50 * time.Millisecond, MaxUnauth: 100}, slog.New(slog.DiscardHandler))
	th.maxSources = 100
	for i := range 5000 {
		th.Failed(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))})
		if n := len(th.fails); n > th.maxSources {
			t.Fatalf("%d sources remembered after %d, want at most %d", n, i+1, th.maxSources)
		}
	}
	time.Sleep(60 * time.Millisecond) // one window: every bucket is full again
	th.lastSweep = time.Time{}
	th.Failed(&net.TCPAddr{IP: net.IPv4(192, 0, 2, 1)})
	if n := len(th.fails); n != 1 {
		t.Fatalf("%d sources remembered a window later, want only the new one", n)
	}
}

// fromConn is a socket from ip as the throttle sees one: only its remote
// address matters.
type fromConn struct {
	net.Conn
	ip string
}

func (c *fromConn) RemoteAddr() net.Addr { return &net.TCPAddr{IP: net.ParseIP(c.ip), Port: 40000} }

// TestThrottleUnauthenticatedSlots: a source holds at most MaxUnauth
// sockets until they are admitted or closed, a socket released twice frees
// one place, other sources are not affected, and a source's count goes
// with its last socket.
func TestThrottleUnauthenticatedSlots(t *testing.T) {
	th := NewThrottle(ThrottleOptions{MaxUnauth: 2}, slog.New(slog.DiscardHandler))
	a, b, c, d := &fromConn{ip: "192.0.2.1"}, &fromConn{ip: "192.0.2.1"}, &fromConn{ip: "192.0.2.1"}, &fromConn{ip: "192.0.2.1"}
	other := &fromConn{ip: "192.0.2.2"}
	open := func(step string, conn *fromConn, want bool) {
		t.Helper()
		if got := th.Open(conn); got != want {
			t.Fatalf("%s: Open = %v, want %v (counts %v)", step, got, want, th.unauth)
		}
	}
	open("first", a, true)
	open("second", b, true)
	open("third, beyond the cap", c, false)
	open("another source", other, true)
	th.Admitted(a)
	th.Admitted(a)
	th.Closed(a)
	open("after one was admitted", c, true)
	open("with both places held again", d, false)
	th.Closed(b)
	open("after one was closed", d, true)
	if got := th.unauth["192.0.2.1"]; got != 2 {
		t.Fatalf("192.0.2.1 holds %d places, want 2", got)
	}
	for _, conn := range []*fromConn{c, d, other} {
		th.Closed(conn)
	}
	if len(th.unauth) != 0 || len(th.pending) != 0 {
		t.Fatalf("after every socket closed: counts %v, pending %d, want none", th.unauth, len(th.pending))
	}
	if _, refused := th.Counts(); refused != 2 {
		t.Fatalf("%d sockets refused, want 2", refused)
	}
}
