package responder

import (
	"bufio"
	"context"
	"net"
	"testing"
	"time"

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
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = nc.Close() })
	return &rawConn{Conn: nc, br: bufio.NewReader(nc)}
}

// credConnect is an MQTT 5 CONNECT with username id and a password.
func credConnect(id, password string) []byte {
	return frame(0x10, lstr("MQTT"), []byte{5, 0xC2, 0, 30, 0}, lstr(id), lstr(id), lstr(password))
}

// TestRevokeWhileConnecting: a device revoked after the registry admitted
// its CONNECT but before its session exists — when Disconnect cannot find
// it — still loses that session at once.
func TestRevokeWhileConnecting(t *testing.T) {
	devs := &slowDevices{asked: make(chan struct{}, 2), proceed: make(chan struct{})}
	r := mustStart(t, Options{Devices: devs})
	c := dialRaw(t, r.Addr())
	c.write(t, credConnect("oven-1", "secret"))
	<-devs.asked // the registry is being asked, on the old registration
	if r.Revoke("oven-1") {
		t.Fatal("Revoke reports a session that does not exist yet")
	}
	close(devs.proceed)
	if h, body := c.mustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x, want success (the registry said yes)", h, body)
	}
	h, body := c.mustRead(t)
	if h != 0xE0 || len(body) == 0 || body[0] != 0x98 {
		t.Fatalf("after CONNACK: %02x % x, want DISCONNECT 0x98", h, body)
	}
	c.waitClosed(t)

	// A device revoked earlier, and admitted on a newer answer, stays.
	again := dialRaw(t, r.Addr())
	again.write(t, credConnect("oven-1", "secret"))
	if h, body := again.mustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x", h, body)
	}
	again.write(t, frame(0xC0)) // PINGREQ
	if h, _ := again.mustRead(t); h != 0xD0 {
		t.Fatalf("want PINGRESP from a session admitted after the revocation, got %02x", h)
	}
}
