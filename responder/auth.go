package responder

import (
	"context"
	"crypto/tls"
	"errors"
	"maps"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
)

// Devices is what the responder needs from the device registry.
type Devices interface {
	// AuthenticateDevice admits device id by its secret and returns it (its
	// Model decides what it sees). It returns
	// [recipes.ErrBadDeviceCredentials] for an unknown or disabled device or
	// a wrong secret, and EUNAVAILABLE when the registry cannot be reached.
	AuthenticateDevice(ctx context.Context, id, secret string) (recipes.Device, error)

	// TouchDevices records when devices were last seen.
	TouchDevices(ctx context.Context, seen map[string]time.Time) error
}

// authenticate decides whether CONNECT pk may become device id (PROTOCOL.md
// §1): username = client ID, password = the device's secret. It runs in
// mochi's OnConnect hook, before mochi looks for an existing session of
// that client ID, so a connection that fails here can never take over or
// disturb the session of the device it claims to be. It returns the reason
// code for the CONNACK. A source that failed too often is refused 0x9F
// before anything else (throttle.go); a failure it causes is counted
// against it.
func (r *Responder) authenticate(dc *deviceConn, cl *mqtt.Client, pk packets.Packet) packets.Code {
	if r.throttle.throttled(dc.RemoteAddr()) {
		return packets.ErrConnectionRateExceeded
	}
	code := r.checkConnect(dc, cl, pk)
	switch code {
	case packets.CodeSuccess:
		r.throttle.admitted(socketOf(dc))
	case packets.ErrClientIdentifierNotValid, packets.ErrBadUsernameOrPassword, packets.ErrBadAuthenticationMethod:
		r.throttle.failed(dc.RemoteAddr())
	}
	return code
}

// socketOf is the socket under dc, as the listener accepted it.
func socketOf(dc *deviceConn) net.Conn {
	if tc, ok := dc.Conn.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return dc.Conn
}

// checkConnect is authenticate's decision on the CONNECT itself.
func (r *Responder) checkConnect(dc *deviceConn, cl *mqtt.Client, pk packets.Packet) packets.Code {
	id := pk.Connect.ClientIdentifier
	if !validDeviceID(id) {
		return packets.ErrClientIdentifierNotValid
	}
	dc.client = cl
	c := pk.Connect
	switch {
	case pk.Properties.AuthenticationMethod != "":
		return packets.ErrBadAuthenticationMethod
	case !c.UsernameFlag && !c.PasswordFlag && r.opts.AllowAnonymous:
		dc.authed, dc.anonymous = true, true
		return packets.CodeSuccess
	case !c.UsernameFlag || string(c.Username) != id || !c.PasswordFlag || len(c.Password) == 0:
		return packets.ErrBadUsernameOrPassword
	case r.opts.Devices == nil:
		return packets.ErrBadUsernameOrPassword
	}
	// Before the registry is asked: a revocation after this may not be in
	// its answer (see revoke.go).
	dc.revokedSeq = r.revoked.current()
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.StoreTimeout)
	defer cancel()
	dev, err := r.opts.Devices.AuthenticateDevice(ctx, id, string(c.Password))
	switch {
	case errors.Is(err, recipes.ErrBadDeviceCredentials):
		return packets.ErrBadUsernameOrPassword
	case err != nil:
		// Not the device's fault: it must not conclude that its secret is
		// wrong, so not 0x86.
		r.log.Warn("cannot authenticate device", "device", id, "error", err)
		return packets.ErrServerUnavailable
	}
	dc.authed, dc.model = true, dev.Model
	return packets.CodeSuccess
}

// connOf returns the deviceConn under a mochi client, or nil for the inline
// client.
func connOf(cl *mqtt.Client) *deviceConn {
	dc, _ := cl.Net.Conn.(*deviceConn)
	return dc
}

// seenLog batches last-seen times so that a reconnect storm costs the
// registry one write per interval, not one per connection.
type seenLog struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func (s *seenLog) add(id string, t time.Time) {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	s.seen[id] = t
	s.mu.Unlock()
}

func (s *seenLog) take() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// putBack returns a batch that could not be written, keeping newer times.
func (s *seenLog) putBack(batch map[string]time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = batch
		return
	}
	for id, t := range batch {
		if cur, ok := s.seen[id]; !ok || cur.Before(t) {
			s.seen[id] = t
		}
	}
}

// flushSeen writes the batch of last-seen times.
func (r *Responder) flushSeen(ctx context.Context) {
	batch := r.seen.take()
	if len(batch) == 0 || r.opts.Devices == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.opts.Devices.TouchDevices(ctx, batch); err != nil {
		r.log.Warn("cannot record when devices were last seen; will retry", "devices", len(batch), "error", err)
		r.seen.putBack(maps.Clone(batch))
	}
}

// recordSeen runs until stop is closed, writing last-seen times every
// interval, and once more at the end.
func (r *Responder) recordSeen(stop <-chan struct{}) {
	defer r.workers.Done()
	t := time.NewTicker(r.opts.SeenInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			r.flushSeen(context.Background())
		case <-stop:
			r.flushSeen(context.Background())
			return
		}
	}
}
