package responder

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/internal/mqtttest"
)

// subscribeFrame is a SUBSCRIBE with packet id 7 and subscription
// identifier 5 for filters, each followed by its options byte.
func subscribeFrame(filters ...any) []byte {
	var body [][]byte
	for _, f := range filters {
		switch f := f.(type) {
		case string:
			body = append(body, mqtttest.Str(f))
		case byte:
			body = append(body, []byte{f})
		}
	}
	return mqtttest.Frame(0x82, append([][]byte{{0, 7, 2, 0x0b, 5}}, body...)...)
}

// reasonCodes returns the reason codes of a SUBACK or UNSUBACK body with
// packet id 7 and no properties.
func reasonCodes(tb testing.TB, body []byte) []byte {
	tb.Helper()
	if len(body) < 3 || body[0] != 0 || body[1] != 7 || body[2] != 0 {
		tb.Fatalf("ack % x: want packet id 7 and no properties", body)
	}
	return body[3:]
}

// pinged sends PINGREQ and returns the packet types that came before the
// PINGRESP: what the server had written to the device until then.
func (c *rawConn) pinged(tb testing.TB) []byte {
	tb.Helper()
	c.Send(tb, []byte{0xc0, 0})
	var before []byte
	for {
		h, _ := c.MustRead(tb)
		if h == 0xd0 {
			return before
		}
		before = append(before, h>>4)
	}
}

func TestSubscribe(t *testing.T) {
	r := mustStart(t, Options{})
	c := dialDevice(t, r.Addr(), "oven")
	c.Send(t, mqtttest.Frame(0xa2, []byte{0, 1, 0}, mqtttest.Str("devices/oven/#"))) // undo dialDevice's
	if h, _ := c.MustRead(t); h != 0xb0 {
		t.Fatalf("want UNSUBACK, got %02x", h)
	}

	c.Send(t, subscribeFrame("devices/oven/#", byte(1), "devices/other/#", byte(1), "recipes/#", byte(0), "devices/oven/x", byte(2)))
	h, body := c.MustRead(t)
	if h != 0x90 {
		t.Fatalf("want SUBACK, got %02x", h)
	}
	if diff := cmp.Diff([]byte{1, 0x87, 0x87, 2}, reasonCodes(t, body)); diff != "" {
		t.Fatalf("SUBACK reason codes (-want +got):\n%s", diff)
	}
	if subs := r.server.Topics.Subscribers("devices/oven/r"); len(subs.Subscriptions) != 0 {
		t.Fatalf("mochi's topic index holds %v; device subscriptions belong to the outbox", subs.Subscriptions)
	}
	c.Answered(t, "oven")

	c.Send(t, mqtttest.Frame(0xa2, []byte{0, 7, 0}, mqtttest.Str("devices/oven/#"), mqtttest.Str("devices/oven/x"), mqtttest.Str("devices/oven/never")))
	if h, body = c.MustRead(t); h != 0xb0 {
		t.Fatalf("want UNSUBACK, got %02x", h)
	}
	if diff := cmp.Diff([]byte{0, 0, 0x11}, reasonCodes(t, body)); diff != "" {
		t.Fatalf("UNSUBACK reason codes (-want +got):\n%s", diff)
	}
	c.Send(t, mqtttest.Request("oven"))
	if got := c.pinged(t); len(got) != 0 {
		t.Fatalf("packets of types %v after unsubscribing, want none", got)
	}
}

// TestWillCannotReachAnotherDevice: mochi publishes a will past the
// OnPublish guard, so nothing mochi routes may reach a device.
func TestWillCannotReachAnotherDevice(t *testing.T) {
	r := mustStart(t, Options{})
	victim := dialDevice(t, r.Addr(), "victim")

	attacker := dialRaw(t, r.Addr())
	// Clean start, will at QoS 0: topic devices/victim/r, payload "forged".
	attacker.Send(t, mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0x06, 0, 30, 0}, mqtttest.Str("attacker"),
		[]byte{0}, mqtttest.Str("devices/victim/r"), mqtttest.Str("forged")))
	if h, body := attacker.MustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x", h, body)
	}
	_ = attacker.Close() // without DISCONNECT: mochi sends the will
	eventually(t, "the attacker's session ends", func() bool { return r.Stats().Connected == 1 })

	deadline := time.Now().Add(300 * time.Millisecond)
	for time.Now().Before(deadline) {
		if got := victim.pinged(t); len(got) != 0 {
			t.Fatalf("the victim got packets of types %v from another device's will", got)
		}
	}
}

// TestSubscribeRenewsKeepAlive: a SUBSCRIBE counts as a sign of life
// although mochi, which renews the keep-alive deadline for what it reads,
// never sees it.
func TestSubscribeRenewsKeepAlive(t *testing.T) {
	r := mustStart(t, Options{})
	c := dialRaw(t, r.Addr())
	c.Send(t, mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0x02, 0, 1, 0}, mqtttest.Str("oven"))) // keep-alive 1 s
	if h, body := c.MustRead(t); h != 0x20 || body[1] != 0 {
		t.Fatalf("CONNACK %02x % x", h, body)
	}
	// mochi closes a connection silent for 1 s (keep-alive 1 s, plus half
	// of it rounded down).
	for start := time.Now(); time.Since(start) < 2500*time.Millisecond; time.Sleep(250 * time.Millisecond) {
		c.Send(t, subscribeFrame("devices/oven/#", byte(1)))
		if h, _, err := c.ReadPacket(); err != nil || h != 0x90 {
			t.Fatalf("after %v of SUBSCRIBEs only: %02x %v, want SUBACK", time.Since(start).Round(time.Millisecond), h, err)
		}
	}
}
