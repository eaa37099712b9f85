package responder

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/responder/edge"
	"github.com/recipesd/recipesd/responder/session"
)

// deviceConn is the net.Conn mochi reads a device from: the edge guard's
// framed and checked connection (package edge), and what the hooks learn
// about the connection. SUBSCRIBE and UNSUBSCRIBE of an established
// session go to the responder instead of mochi (subscribe.go).
//
// All fields but the embedded connection's socket belong to the
// connection's goroutine: mochi reads and runs the CONNECT hooks there.
type deviceConn struct {
	edge.Conn
	r *Responder

	pkt []byte // a checked packet being handed to mochi
	off int
	err error

	// Set by the hooks.
	client      *mqtt.Client
	revokedSeq  uint64           // revocations numbered up to this one are in the registry's answer
	identity    session.Identity // what the registry admitted it as
	authed      bool
	anonymous   bool
	established bool // CONNACK sent and counted as connected
	admitted    bool // a request was admitted and its handler has not run (admit.go)
	since       time.Time

	// The device's claim (presence.go): its epoch, 0 once released or
	// when none was made, and whether the claim lock is held. Other
	// goroutines read them: takeover notices, and whoever closes.
	claimID   string
	epoch     atomic.Uint64
	claimHeld atomic.Bool
}

func newDeviceConn(raw net.Conn, cfg *edge.Config, r *Responder) *deviceConn {
	dc := &deviceConn{r: r}
	dc.Init(raw, cfg)
	return dc
}

// Close closes the connection and releases the device's claim, if it
// made one. mochi closes every client's connection once, through this,
// whichever way the session ended (Client.Stop).
func (c *deviceConn) Close() error {
	err := c.Conn.Close()
	if c.r != nil {
		c.r.connClosed(c)
	}
	return err
}

// Edge returns the edge guard's connection, for the listener.
func (c *deviceConn) Edge() *edge.Conn { return &c.Conn }

// Read hands mochi the bytes of checked packets, one packet at a time.
func (c *deviceConn) Read(p []byte) (int, error) {
	for c.off == len(c.pkt) {
		c.pkt, c.off = nil, 0
		if c.err != nil {
			return 0, c.err
		}
		pkt, err := c.Next()
		if err != nil {
			c.err = err
			var fe *edge.FrameError
			if errors.As(err, &fe) && c.r != nil {
				c.r.badPacket(c, fe)
			}
			return 0, err
		}
		if t := pkt[0] >> 4; c.established && c.r != nil && (t == packets.Subscribe || t == packets.Unsubscribe) {
			if err := c.r.subscribe(c, pkt); err != nil {
				c.err = err
				return 0, err
			}
			continue
		}
		c.pkt = pkt
	}
	n := copy(p, c.pkt[c.off:])
	c.off += n
	return n, nil
}

// connOf returns the deviceConn under a mochi client, or nil for the inline
// client.
func connOf(cl *mqtt.Client) *deviceConn {
	dc, _ := cl.Net.Conn.(*deviceConn)
	return dc
}
