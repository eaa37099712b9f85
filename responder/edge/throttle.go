package edge

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// A Throttle limits, per source address, what a peer can make us do
// before it has authenticated:
//
//   - failed authentications: each source has a token bucket of failures
//     (burst failures, refilled over window). A source whose bucket is
//     empty has its CONNECTs answered CONNACK 0x9F before the registry is
//     asked, so guessing secrets cannot run at the speed of the registry,
//     and cannot hammer it. The key is the source, not (source, client
//     ID): keyed by client ID too, a guesser rotating IDs would reach the
//     registry at full speed. A device is therefore never locked out from
//     another address by guesses against it, only from the guesser's own
//     (a NAT it shares with the guesser, say), and only until the window
//     refills.
//   - unauthenticated sockets: a source may hold at most maxUnauth sockets
//     that are open but not yet admitted; more are closed at once, before
//     any TLS handshake, so one address cannot pin our file descriptors
//     and goroutines with sockets that never send a CONNECT.
//
// A source is an IPv4 address or an IPv6 /64 (one subscriber's prefix).
// Memory is bounded: a failure entry goes once its bucket is full again,
// and there are at most maxSources of them; a socket count goes with the
// last such socket.
type Throttle struct {
	failures       int // failed authentications a source may have per window; 0: no limit
	window         time.Duration
	maxUnauth      int // unauthenticated sockets a source may hold; 0: no limit
	exemptLoopback bool
	maxSources     int
	log            *slog.Logger

	connectsThrottled, socketsRefused atomic.Int64

	mu        sync.Mutex
	fails     map[string]*failBucket
	lastSweep time.Time
	unauth    map[string]int      // open, unadmitted sockets by source
	pending   map[net.Conn]string // those sockets, with their source

	logLimit   *rate.Limiter // refusals are logged at this rate, not one line each
	suppressed int           // refusals not logged since the last line
}

type failBucket struct {
	lim  *rate.Limiter
	last time.Time // of the last failure
}

// maxThrottleSources bounds the sources whose failures are remembered.
const maxThrottleSources = 100_000

// ThrottleOptions set a [Throttle]'s limits; see the Options of package
// responder, which they come from.
type ThrottleOptions struct {
	Failures       int           // failed authentications per Window; 0 or less: no limit
	Window         time.Duration // must be positive when Failures is
	MaxUnauth      int           // unauthenticated sockets per source; 0 or less: no limit
	ExemptLoopback bool
}

// NewThrottle returns a throttle that logs its refusals to log.
func NewThrottle(o ThrottleOptions, log *slog.Logger) *Throttle {
	return &Throttle{
		failures:       max(o.Failures, 0),
		window:         o.Window,
		maxUnauth:      max(o.MaxUnauth, 0),
		exemptLoopback: o.ExemptLoopback,
		maxSources:     maxThrottleSources,
		log:            log,
		fails:          map[string]*failBucket{},
		unauth:         map[string]int{},
		pending:        map[net.Conn]string{},
		logLimit:       rate.NewLimiter(rate.Every(10*time.Second), 3),
	}
}

// source returns the throttle's key for addr, and false for addresses it
// does not throttle (loopback when exempt).
func (t *Throttle) source(addr net.Addr) (string, bool) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return "", false // net.Pipe in tests: no address to throttle by
	}
	if t.exemptLoopback && ta.IP.IsLoopback() {
		return "", false
	}
	if ip4 := ta.IP.To4(); ip4 != nil {
		return ip4.String(), true
	}
	return ta.IP.Mask(net.CIDRMask(64, 128)).String() + "/64", true
}

// Open admits a new socket raw, or says it must be closed: its source
// holds as many unauthenticated sockets as it may. An admitted socket must
// be given to Closed when it ends.
func (t *Throttle) Open(raw net.Conn) bool {
	src, ok := t.source(raw.RemoteAddr())
	if !ok || t.maxUnauth == 0 {
		return true
	}
	t.mu.Lock()
	if t.unauth[src] >= t.maxUnauth {
		t.mu.Unlock()
		t.socketsRefused.Add(1)
		t.refused("too many unauthenticated connections from one source; socket closed", src)
		return false
	}
	t.unauth[src]++
	t.pending[raw] = src
	t.mu.Unlock()
	return true
}

// Admitted releases raw's unauthenticated slot: it has authenticated. It
// may be called more than once, and for sockets Open did not count.
func (t *Throttle) Admitted(raw net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	src, ok := t.pending[raw]
	if !ok {
		return
	}
	delete(t.pending, raw)
	if t.unauth[src]--; t.unauth[src] <= 0 {
		delete(t.unauth, src)
	}
}

// Closed is Admitted for a socket that ended, authenticated or not.
func (t *Throttle) Closed(raw net.Conn) { t.Admitted(raw) }

// Blocked reports whether a CONNECT from addr must be answered 0x9F
// without asking the registry: its source has used up its failures.
func (t *Throttle) Blocked(addr net.Addr) bool {
	src, ok := t.source(addr)
	if !ok || t.failures == 0 {
		return false
	}
	t.mu.Lock()
	b := t.fails[src]
	out := b != nil && b.lim.TokensAt(time.Now()) < 1
	t.mu.Unlock()
	if out {
		t.connectsThrottled.Add(1)
		t.refused("too many failed authentications from one source; CONNECT refused (0x9F)", src)
	}
	return out
}

// Failed records a failed authentication from addr.
func (t *Throttle) Failed(addr net.Addr) {
	src, ok := t.source(addr)
	if !ok || t.failures == 0 {
		return
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.fails[src]
	if b == nil {
		t.makeRoom(now)
		b = &failBucket{lim: rate.NewLimiter(rate.Limit(float64(t.failures)/t.window.Seconds()), t.failures)}
		t.fails[src] = b
	}
	b.lim.AllowN(now, 1) // an empty bucket stays empty; nothing to take
	b.last = now
}

// makeRoom keeps t.fails bounded: entries whose bucket has refilled (no
// failure for a window) are dropped, at most once a second; if the map is
// still full, an arbitrary entry goes, which at worst forgets a source's
// failures early. t.mu is held.
func (t *Throttle) makeRoom(now time.Time) {
	if len(t.fails) < t.maxSources/2 && now.Sub(t.lastSweep) < t.window {
		return
	}
	if now.Sub(t.lastSweep) >= time.Second {
		t.lastSweep = now
		for src, b := range t.fails {
			if now.Sub(b.last) >= t.window {
				delete(t.fails, src)
			}
		}
	}
	for src := range t.fails {
		if len(t.fails) < t.maxSources {
			break
		}
		delete(t.fails, src)
	}
}

// refused logs a refusal, at a bounded rate: a flood of refused sockets
// must not become a flood of log lines.
func (t *Throttle) refused(msg, src string) {
	t.mu.Lock()
	if !t.logLimit.Allow() {
		t.suppressed++
		t.mu.Unlock()
		return
	}
	n := t.suppressed
	t.suppressed = 0
	t.mu.Unlock()
	t.log.Warn(msg, "source", src, "refusals_not_logged", n)
}

// Counts returns how many CONNECTs were refused by [Throttle.Blocked] and
// how many sockets by [Throttle.Open], since the throttle was made.
func (t *Throttle) Counts() (connectsThrottled, socketsRefused int64) {
	return t.connectsThrottled.Load(), t.socketsRefused.Load()
}
