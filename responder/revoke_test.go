package responder

import (
	"context"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
)

// slowDevices admits every device, but only once the test lets it.
type slowDevices struct {
	asked   chan struct{}
	proceed chan struct{}
}

func (d *slowDevices) AuthenticateDevice(_ context.Context, id, _ string) (recipes.Device, error) {
	d.asked <- struct{}{}
	<-d.proceed
	return recipes.Device{ID: id, Model: "CM-100", Enabled: true}, nil
}
func (*slowDevices) TouchDevices(context.Context, map[string]time.Time) error { return nil }

// dialRaw opens a TCP connection to the responder.
func dialRaw(tb testing.TB, addr string) *rawConn {
	tb.Helper()
	return &rawConn{mqtttest.Dial(tb, addr)}
}

// TestRevokeWhileConnecting: a device revoked after the registry admitted
// its CONNECT but before its session exists — when Disconnect cannot find
// it — still loses that session at once.
func TestRevokeWhileConnecting(t *testing.T) {
	devs := &slowDevices{asked: make(chan struct{}, 2), proceed: make(chan struct{})}
	r := mustStart(t, Options{Devices: devs})
	c := dialRaw(t, r.Addr())
	c.Send(t, mqtttest.Connect("oven-1", "oven-1", "secret", nil))
	<-devs.asked // the registry is being asked, on the old registration
	if r.Revoke("oven-1") {
		t.Fatal("Revoke reports a session that does not exist yet")
	}
	close(devs.proceed)
	if h, body := c.MustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x, want success (the registry said yes)", h, body)
	}
	h, body := c.MustRead(t)
	if h != 0xE0 || len(body) == 0 || body[0] != 0x98 {
		t.Fatalf("after CONNACK: %02x % x, want DISCONNECT 0x98", h, body)
	}
	c.WaitClosed(t)

	// A device revoked earlier, and admitted on a newer answer, stays.
	again := dialRaw(t, r.Addr())
	again.Send(t, mqtttest.Connect("oven-1", "oven-1", "secret", nil))
	if h, body := again.MustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x", h, body)
	}
	again.Send(t, mqtttest.Frame(0xC0)) // PINGREQ
	if h, _ := again.MustRead(t); h != 0xD0 {
		t.Fatalf("want PINGRESP from a session admitted after the revocation, got %02x", h)
	}
}
