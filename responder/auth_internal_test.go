package responder

import (
	"context"
	"net"
	"testing"
	"time"
	"unsafe"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/edge"
)

// acceptAll admits every device as a CM-100.
type acceptAll struct{}

func (acceptAll) AuthenticateDevice(_ context.Context, id, _ string) (recipes.Device, error) {
	return recipes.Device{ID: id, Model: "CM-100", Enabled: true}, nil
}
func (acceptAll) TouchDevices(context.Context, map[string]time.Time) error { return nil }

// TestConnectForgetsTheSecret: once a CONNECT is authenticated its secret
// is wiped from the packet's buffer, which mochi keeps for the life of the
// connection, and the username mochi keeps is a copy of its own.
func TestConnectForgetsTheSecret(t *testing.T) {
	r := mustStart(t, Options{Devices: acceptAll{}})
	server, peer := net.Pipe()
	t.Cleanup(func() { _ = server.Close(); _ = peer.Close() })
	cl := r.server.NewClient(newDeviceConn(server, &edge.Config{}, nil), "test", "", false)

	buf := []byte("oven-1" + "the-secret-of-oven-1")
	pk := packets.Packet{ProtocolVersion: 5, Connect: packets.ConnectParams{
		ClientIdentifier: "oven-1",
		UsernameFlag:     true, Username: buf[:6],
		PasswordFlag: true, Password: buf[6:],
	}}
	cl.ParseConnect("test", pk)
	if err := (&deviceHook{r: r}).OnConnect(cl, pk); err != nil {
		t.Fatalf("OnConnect: %v", err)
	}
	if !connOf(cl).authed {
		t.Fatal("the device was not authenticated")
	}
	for i, b := range buf[6:] {
		if b != 0 {
			t.Fatalf("byte %d of the secret is still in the CONNECT buffer: %q", i, buf)
		}
	}
	u := cl.Properties.Username
	if string(u) != "oven-1" || &u[:1][0] == &buf[0] {
		t.Fatalf("username %q still aliases the CONNECT buffer", u)
	}
	if id := unsafe.StringData(cl.ID); cl.ID != "oven-1" || id == unsafe.StringData(pk.Connect.ClientIdentifier) {
		t.Fatalf("client ID %q still aliases the CONNECT", cl.ID)
	}
}
