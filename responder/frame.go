package responder

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// frameLimits bound what a connection may send.
type frameLimits struct {
	maxPacket  int // any packet after CONNECT, fixed header included
	maxConnect int // the CONNECT, read before anyone is authenticated
	noCheck    bool
}

// connConfig is what the connections of a listener share; one pointer to
// it keeps every idle connection a few words smaller.
type connConfig struct {
	limits frameLimits
	onBad  func(*deviceConn, *frameError)
	// subscribe answers the SUBSCRIBE or UNSUBSCRIBE pkt (checked, whole)
	// of an established session in mochi's place (subscribe.go).
	subscribe func(dc *deviceConn, pkt []byte) error
	// writeTimeout bounds every write (0: none); linger is how long a
	// closed connection drains what its peer still sends (0: no draining).
	writeTimeout time.Duration
	linger       time.Duration
	writeFailed  func() // told once per connection whose write failed
}

// deviceConn is the net.Conn mochi reads a device from. It frames the byte
// stream into MQTT packets itself and checks each one (packetcheck.go)
// before mochi sees any of it, so mochi only ever decodes well-formed
// packets: one whose declared size is over the limit is refused after its
// fixed header, before anything is allocated for it, and a malformed one
// closes the connection with a reason code. SUBSCRIBE and UNSUBSCRIBE go
// to the responder instead of mochi (subscribe.go).
//
// It also keeps what the hooks learn about the connection. All fields but
// the embedded Conn belong to the connection's goroutine: mochi reads and
// runs the CONNECT hooks there.
type deviceConn struct {
	net.Conn
	cfg *connConfig

	buf       *[]byte // pooled, only while bytes are flowing
	in        []byte  // read from the network, not yet framed
	pkt       []byte  // a checked packet being handed to mochi
	off       int
	err       error
	one       [1]byte
	connected bool // CONNECT has passed the checks

	// werr is the first write error. Writes are serialized by mochi's
	// client lock (every packet goes through Client.WritePacket), so it
	// needs no lock of its own.
	werr    error
	closing atomic.Bool // Close has run

	// Set by the hooks.
	client      *mqtt.Client
	revokedSeq  uint64 // revocations numbered up to this one are in the registry's answer
	model       string
	authed      bool
	anonymous   bool
	established bool // CONNACK sent and counted as connected
	admitted    bool // a request was admitted and its handler has not run (admit.go)
}

// readBufSize is the chunk a busy connection reads in. An idle connection
// holds no buffer at all: it waits for its next packet on one byte.
const readBufSize = 4 << 10

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

func newDeviceConn(c net.Conn, cfg *connConfig) *deviceConn {
	return &deviceConn{Conn: c, cfg: cfg}
}

// Read hands mochi the bytes of checked packets, one packet at a time.
func (c *deviceConn) Read(p []byte) (int, error) {
	for c.off == len(c.pkt) {
		c.pkt, c.off = nil, 0
		if c.err != nil {
			return 0, c.err
		}
		if err := c.next(); err != nil {
			c.err = err
			c.release()
			var fe *frameError
			if errors.As(err, &fe) && c.cfg.onBad != nil {
				c.cfg.onBad(c, fe)
			}
			return 0, err
		}
		if t := c.pkt[0] >> 4; c.established && c.cfg.subscribe != nil && (t == typeSubscribe || t == typeUnsubscribe) {
			pkt := c.pkt
			c.pkt = nil
			if err := c.cfg.subscribe(c, pkt); err != nil {
				c.err = err
				return 0, err
			}
		}
	}
	n := copy(p, c.pkt[c.off:])
	c.off += n
	return n, nil
}

// next reads and checks one whole packet into c.pkt.
func (c *deviceConn) next() error {
	h, err := c.readByte()
	if err != nil {
		return err // io.EOF here is a clean end between packets
	}
	var lenBytes [4]byte
	n, remaining, mult := 0, 0, 1
	for {
		b, err := c.readByte()
		if err != nil {
			return unexpected(err)
		}
		lenBytes[n] = b
		n++
		remaining += int(b&0x7f) * mult
		if b&0x80 == 0 {
			if n > 1 && b == 0 {
				return malformed("remaining length not minimally encoded")
			}
			break
		}
		if n == 4 {
			return malformed("remaining length longer than 4 bytes")
		}
		mult *= 128
	}
	if fe := checkHeader(h, remaining, c.connected); fe != nil {
		return fe
	}
	total := 1 + n + remaining
	limit := c.cfg.limits.maxPacket
	if !c.connected {
		limit = c.cfg.limits.maxConnect
	}
	if limit > 0 && total > limit {
		fe := &frameError{code: codePacketTooLarge, reason: "packet too large"}
		if !c.connected {
			fe.connack = connack(codePacketTooLarge)
		}
		return fe
	}

	// Grow with what arrives rather than with what is declared, so that a
	// peer must actually send the bytes it makes us hold.
	pkt := make([]byte, 0, min(total, readBufSize))
	pkt = append(append(pkt, h), lenBytes[:n]...)
	for len(pkt) < total {
		if len(c.in) > 0 {
			k := min(len(c.in), total-len(pkt))
			pkt = append(pkt, c.in[:k]...)
			c.in = c.in[k:]
			continue
		}
		c.release()
		if len(pkt) == cap(pkt) {
			grown := make([]byte, len(pkt), min(total, 2*cap(pkt)))
			copy(grown, pkt)
			pkt = grown
		}
		k, err := c.Conn.Read(pkt[len(pkt):cap(pkt)])
		pkt = pkt[:len(pkt)+k]
		if err != nil && len(pkt) < total {
			return unexpected(err)
		}
	}
	if len(c.in) == 0 {
		c.release()
	}
	if !c.cfg.limits.noCheck {
		if fe := checkPacket(h, pkt[1+n:]); fe != nil {
			return fe
		}
	}
	if !c.connected {
		// The first-packet deadline (listener.go) is the peer's time to
		// send its CONNECT. The authentication that follows takes the
		// store's time, and mochi sets the keep-alive deadline only after
		// it: left in place, the deadline could expire first, losing the
		// CONNACK of a refusal or, over TLS, breaking the connection.
		_ = c.Conn.SetDeadline(time.Time{})
		c.connected = true
	}
	c.pkt = pkt
	return nil
}

func (c *deviceConn) readByte() (byte, error) {
	if len(c.in) == 0 {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	b := c.in[0]
	c.in = c.in[1:]
	return b, nil
}

// fill reads more bytes into c.in, which is empty.
func (c *deviceConn) fill() error {
	if c.buf == nil {
		// Waiting for the next packet: hold one byte, not a buffer.
		n, err := c.Conn.Read(c.one[:])
		if n == 0 {
			if err == nil {
				err = io.ErrNoProgress
			}
			return err
		}
		c.buf = readBufs.Get().(*[]byte)
		(*c.buf)[0] = c.one[0]
		c.in = (*c.buf)[:1]
		return nil
	}
	n, err := c.Conn.Read(*c.buf)
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	c.in = (*c.buf)[:n]
	return nil
}

// Write writes one encoded packet with a deadline of its own, so that a
// device that stops reading is cut off after the write timeout rather than
// after one and a half keep-alives, which a device that still sends
// PINGREQs renews for ever. Any failure ends the connection at once: the
// packet may be half on the wire, and anything written after it would
// corrupt the stream.
func (c *deviceConn) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	if t := c.cfg.writeTimeout; t > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.werr = fmt.Errorf("responder: write to device: %w", err)
		_ = c.Close()
		if c.cfg.writeFailed != nil {
			c.cfg.writeFailed()
		}
		return n, c.werr
	}
	return n, nil
}

// SetDeadline is how mochi sets the keep-alive deadline before each packet
// it reads. It applies to reads only (writes have their own, see Write),
// and not at all once the connection is closing.
func (c *deviceConn) SetDeadline(t time.Time) error {
	if c.closing.Load() {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// Close ends the connection without a reset: whatever was written (a
// DISCONNECT, say) is followed by a FIN, and mochi's reader is woken up.
// The socket itself is closed by finish, once the peer has had time to
// read what it was sent: closing a socket that still has unread input
// makes the kernel send a reset, and a reset can destroy the DISCONNECT
// before the peer reads it.
func (c *deviceConn) Close() error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && c.cfg.linger > 0 && cw.CloseWrite() == nil {
		return c.Conn.SetReadDeadline(time.Now())
	}
	return c.Conn.Close()
}

// finish closes the socket once mochi is done with the connection,
// draining what a peer that sent a CONNECT still sends for up to the
// linger time. It runs on the connection's goroutine.
func (c *deviceConn) finish() {
	c.closing.Store(true)
	c.release()
	if c.cfg.linger > 0 && c.connected {
		if c.Conn.SetReadDeadline(time.Now().Add(c.cfg.linger)) == nil {
			var b [512]byte
			for {
				if _, err := c.Conn.Read(b[:]); err != nil {
					break
				}
			}
		}
	}
	_ = c.Conn.Close()
}

func (c *deviceConn) release() {
	if c.buf != nil {
		readBufs.Put(c.buf)
		c.buf, c.in = nil, nil
	}
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
