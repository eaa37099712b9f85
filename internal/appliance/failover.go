package appliance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"
)

// Failover: an appliance that stays connected to one of several servers,
// as firmware in a fleet served by a cluster must. On a lost connection it
// tries the next server of its list, with backoff; told by DISCONNECT 0x9C
// (use another server) or 0x9D (server moved) where to go, it goes there
// at once; and a QoS 1 request not answered when a connection drops is
// sent again, with the same Correlation Data, on the next one.

// ParseServers parses a comma-separated list of server addresses
// (host:port), as -addr and APPLIANCE_ADDR take them.
func ParseServers(list string) ([]string, error) {
	var out []string
	for i, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("server list %q: entry %d is empty", list, i+1)
		}
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return nil, fmt.Errorf("server list %q: entry %d (%q) is not host:port", list, i+1, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// firstReference returns the server a Server Reference names first: MQTT
// 5 lets it be a space-separated list (§4.11, non-normative).
func firstReference(ref string) string {
	if f := strings.Fields(ref); len(f) > 0 {
		return f[0]
	}
	return ""
}

// SessionOptions configures a [Session].
type SessionOptions struct {
	// Servers are tried in turn, from the first; at least one.
	Servers []string
	// OnConnect, if set, runs on every new connection before it is used
	// (to subscribe, say); an error ends that connection.
	OnConnect func(ctx context.Context, c *Client) error
	// Logf, if set, is told about every connection made and lost.
	Logf func(format string, args ...any)
	// Backoff is the first pause between failed attempts, doubled up to
	// MaxBackoff while they fail; defaults 100ms and 5s.
	Backoff, MaxBackoff time.Duration
}

// Session is an appliance that stays connected while [Session.Run] runs.
type Session struct {
	opts Options
	so   SessionOptions

	mu      sync.Mutex
	cur     *Client
	changed chan struct{} // closed, and replaced, when cur changes
	lastErr error         // why the last attempt failed
	done    bool          // Run has returned
}

// NewSession returns a session of the device o describes (o.Addr is
// ignored: so.Servers says where to connect).
func NewSession(o Options, so SessionOptions) *Session {
	if so.Backoff <= 0 {
		so.Backoff = 100 * time.Millisecond
	}
	if so.MaxBackoff < so.Backoff {
		so.MaxBackoff = max(5*time.Second, so.Backoff)
	}
	return &Session{opts: o, so: so, changed: make(chan struct{})}
}

// permanent reports whether CONNACK code refuses the device itself, not
// the server's state: trying other servers would not help.
func permanent(code byte) bool {
	switch code {
	case 0x85, 0x86, 0x87, 0x8C: // client ID not valid, bad credentials, not authorized, bad auth method
		return true
	}
	return false
}

// Run connects and stays connected until ctx ends, when it closes the
// connection and returns nil; it returns an error only when a server
// refuses the device itself (bad secret, say), which no other server
// would accept either.
func (s *Session) Run(ctx context.Context) error {
	defer s.set(nil, nil, true)
	if len(s.so.Servers) == 0 {
		err := errors.New("appliance: no server to connect to")
		s.set(nil, err, true)
		return err
	}
	next, backoff := 0, s.so.Backoff
	addr := s.so.Servers[0]
	for ctx.Err() == nil {
		c, err := s.connect(ctx, addr)
		if err != nil {
			if c != nil && c.Connack != nil && permanent(c.Connack.ReasonCode) {
				return err
			}
			s.set(nil, err, false)
			s.logf("cannot connect to %s: %v", addr, err)
			next = (next + 1) % len(s.so.Servers)
			addr = s.so.Servers[next]
			if !sleep(ctx, jitter(backoff)) {
				return nil
			}
			backoff = min(2*backoff, s.so.MaxBackoff)
			continue
		}
		backoff = s.so.Backoff
		s.logf("connected to %s", addr)
		s.set(c, nil, false)
		select {
		case <-ctx.Done():
			_ = c.Close()
			return nil
		case <-c.Ended():
		}
		s.set(nil, nil, false)
		if d := c.ServerDisconnect(); d != nil && (d.ReasonCode == 0x9C || d.ReasonCode == 0x9D) && d.Properties != nil {
			if ref := firstReference(d.Properties.ServerReference); ref != "" {
				s.logf("%s sent us to %s (DISCONNECT 0x%02X)", addr, ref, d.ReasonCode)
				addr = ref
				continue
			}
		}
		s.logf("lost the connection to %s", addr)
		next = (next + 1) % len(s.so.Servers)
		addr = s.so.Servers[next]
		// A server that fails drops all its devices at once: spread
		// their returns.
		if !sleep(ctx, jitter(s.so.Backoff)) {
			return nil
		}
	}
	return nil
}

// connect dials addr and runs OnConnect.
func (s *Session) connect(ctx context.Context, addr string) (*Client, error) {
	o := s.opts
	o.Addr = addr
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := Dial(dctx, o)
	if err != nil {
		return c, err
	}
	if s.so.OnConnect != nil {
		if err := s.so.OnConnect(ctx, c); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("appliance %s: on connect to %s: %w", o.ID, addr, err)
		}
	}
	return c, nil
}

func (s *Session) set(c *Client, err error, done bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = c
	if err != nil {
		s.lastErr = err
	}
	s.done = s.done || done
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Session) logf(format string, args ...any) {
	if s.so.Logf != nil {
		s.so.Logf(format, args...)
	}
}

// Client waits for a live connection other than prev (nil: any) and
// returns it; the error says why there is none when ctx ends or Run has
// returned.
func (s *Session) Client(ctx context.Context, prev *Client) (*Client, error) {
	for {
		s.mu.Lock()
		c, changed, done, lastErr := s.cur, s.changed, s.done, s.lastErr
		s.mu.Unlock()
		if c != nil && c != prev {
			select {
			case <-c.Done():
			default:
				return c, nil
			}
		}
		if done {
			return nil, errors.Join(errors.New("appliance: session ended"), lastErr)
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return nil, fmt.Errorf("%w (last connection attempt: %w)", ctx.Err(), lastErr)
			}
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// Ask publishes req on the session's connection and waits for its reply.
// A QoS 1 request whose connection drops before the reply came is sent
// again, with the same Correlation Data, once the session has
// reconnected (to whichever server); a QoS 0 one is not.
func (s *Session) Ask(ctx context.Context, req Request) (*Reply, error) {
	if req.Correlation == nil && !req.NoCorrelation {
		req.Correlation = make([]byte, 16)
		_, _ = rand.Read(req.Correlation)
	}
	var prev *Client
	for {
		c, err := s.Client(ctx, prev)
		if err != nil {
			return nil, fmt.Errorf("%w to %s: %w", ErrNoReply, req.Topic, err)
		}
		prev = c
		resend := c.qos > 0
		if req.QoS != nil {
			resend = *req.QoS > 0
		}
		ch, _, err := c.Send(ctx, req)
		if err != nil {
			// Lost with the connection (no PUBACK came), or refused?
			select {
			case <-c.Done():
				if resend && ctx.Err() == nil {
					continue
				}
			case <-time.After(endGrace):
			}
			return nil, err
		}
		select {
		case r := <-ch:
			return r, nil
		case <-ctx.Done():
			c.forget(req.Correlation)
			return nil, fmt.Errorf("%w to %s: %w", ErrNoReply, req.Topic, ctx.Err())
		case <-c.Done():
			c.forget(req.Correlation)
			select {
			case r := <-ch: // it came just before the end
				return r, nil
			default:
			}
			if !resend {
				return nil, fmt.Errorf("%w to %s: the connection was lost", ErrNoReply, req.Topic)
			}
			s.logf("connection lost before the reply to %s: sending it again after reconnecting", req.Topic)
		}
	}
}

// jitter returns a random duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + mrand.N(d/2+1)
}

// sleep waits d, or reports false if ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
