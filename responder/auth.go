package responder

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/session"
)

// Devices is what the responder needs from the device registry.
type Devices interface {
	// AuthenticateDevice admits device id by its secret and returns it (its
	// Model decides what it sees, its Locale the language it is answered
	// in unless a request asks for another). It returns
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
// before anything else (edge.Throttle); a failure it causes is counted
// against it.
func (r *Responder) authenticate(dc *deviceConn, cl *mqtt.Client, pk packets.Packet) packets.Code {
	if r.throttle.Blocked(dc.RemoteAddr()) {
		return packets.ErrConnectionRateExceeded
	}
	code := r.checkConnect(dc, cl, pk)
	switch code {
	case packets.CodeSuccess:
		r.throttle.Admitted(socketOf(dc))
	case packets.ErrClientIdentifierNotValid, packets.ErrBadUsernameOrPassword, packets.ErrBadAuthenticationMethod:
		r.throttle.Failed(dc.RemoteAddr())
	}
	return code
}

// socketOf is the socket under dc, as the listener accepted it.
func socketOf(dc *deviceConn) net.Conn {
	raw := dc.Conn.Conn
	if tc, ok := raw.(*tls.Conn); ok {
		return tc.NetConn()
	}
	return raw
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
	dc.authed, dc.identity = true, session.Identity{Model: dev.Model, Locale: dev.Locale}
	return packets.CodeSuccess
}

// flushSeen writes the batch of last-seen times.
func (r *Responder) flushSeen(ctx context.Context) {
	if r.opts.Devices == nil {
		return
	}
	if n, err := r.seen.Flush(ctx, r.opts.Devices.TouchDevices); err != nil {
		r.log.Warn("cannot record when devices were last seen; will retry", "devices", n, "error", err)
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
