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
