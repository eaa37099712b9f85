package responder_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/responder"
)

// TestConnectDeadlineEndsWithConnect: FirstPacketTimeout (recipesd's
// -connect-timeout) bounds how long a peer may take to send its CONNECT,
// not how long the store takes to authenticate it. With every store
// command slower than the whole deadline, devices still get their CONNACK,
// and an accepted one a working connection, over TCP and over TLS (a
// write past the deadline loses the CONNACK, and over TLS breaks the
// connection); a peer that sends all of its CONNECT but the last byte is
// still closed at the deadline.
func TestConnectDeadlineEndsWithConnect(t *testing.T) {
	const deadline = 500 * time.Millisecond // room for a TLS handshake under -race
	serverTLS, pool := selfSigned(t)
	s := mustServe(t, func(o *responder.Options) {
		o.TLS, o.TLSAddr = serverTLS, "127.0.0.1:0"
		o.FirstPacketTimeout = deadline
		o.StoreTimeout = 5 * time.Second
	})
	secret := s.MustRegister(t, "slow-oven", testModel)
	redistest.Stall(t, s.Redis, 2*deadline)

	dial := map[string]func() *mqtttest.Conn{
		"TCP": func() *mqtttest.Conn { return mqtttest.Dial(t, s.MQTTAddr) },
		"TLS": func() *mqtttest.Conn {
			c, err := tls.Dial("tcp", s.Responder.TLSAddr(), &tls.Config{RootCAs: pool})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = c.Close() })
			return mqtttest.NewConn(c)
		},
	}
	tests := []struct {
		name     string
		dial     string
		password string
		want     byte // CONNACK reason code
	}{
		{"OK/TCP", "TCP", secret, 0},
		{"OK/TLS", "TLS", secret, 0},
		{"ErrBadSecret/TCP", "TCP", "wrong", 0x86},
		{"ErrBadSecret/TLS", "TLS", "wrong", 0x86},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial[tt.dial]()
			start := time.Now()
			c.Send(t, mqtttest.Connect("slow-oven", "slow-oven", tt.password, nil))
			h, body := c.MustRead(t)
			if h != 0x20 || len(body) < 2 || body[1] != tt.want {
				t.Fatalf("CONNACK %02x % x, want reason code 0x%02x", h, body, tt.want)
			}
			if took := time.Since(start); took < deadline {
				t.Fatalf("answered in %v: authentication was not slowed past the %v deadline", took, deadline)
			}
			if tt.want != 0 {
				if _, err := c.ClosedAfter(); err != nil {
					t.Fatal(err)
				}
				return
			}
			c.Send(t, []byte{0xc0, 0}) // PINGREQ
			if h, _ := c.MustRead(t); h != 0xd0 {
				t.Fatalf("want PINGRESP, got %02x", h)
			}
		})
	}

	t.Run("ErrPartialConnect", func(t *testing.T) {
		c := mqtttest.Dial(t, s.MQTTAddr)
		connect := mqtttest.Connect("slow-oven", "slow-oven", secret, nil)
		c.Send(t, connect[:len(connect)-1])
		start := time.Now()
		if code, err := c.ClosedAfter(); err != nil || code != -1 {
			t.Fatalf("all of a CONNECT but its last byte: %v, reason code %d; want closed without a CONNACK", err, code)
		}
		if took := time.Since(start); took > deadline+2*time.Second {
			t.Fatalf("closed after %v, deadline %v", took, deadline)
		}
	})
}
