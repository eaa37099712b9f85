package responder

import (
	"errors"
	"io"
	"net"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// frameLimits bound what a connection may send.
type frameLimits struct {
	maxPacket  int // any packet after CONNECT, fixed header included
	maxConnect int // the CONNECT, read before anyone is authenticated
	noCheck    bool
}

// deviceConn is the net.Conn mochi reads a device from. It frames the byte
// stream into MQTT packets itself and checks each one (packetcheck.go)
// before mochi sees any of it, so mochi only ever decodes well-formed
// packets: one whose declared size is over the limit is refused after its
// fixed header, before anything is allocated for it, and a malformed one
// closes the connection with a reason code.
//
// It also keeps what the hooks learn about the connection. All fields but
// the embedded Conn belong to the connection's goroutine: mochi reads and
// runs the CONNECT hooks there.
type deviceConn struct {
	net.Conn
	limits frameLimits
	onBad  func(*deviceConn, *frameError)

	one       [1]byte
	buf       *[]byte // pooled, only while bytes are flowing
	in        []byte  // read from the network, not yet framed
	pkt       []byte  // a checked packet being handed to mochi
	off       int
	connected bool // CONNECT has passed the checks
	err       error

	// Set by the hooks.
	client      *mqtt.Client
	authed      bool
	anonymous   bool
	model       string
	established bool // CONNACK sent and counted as connected
}

// readBufSize is the chunk a busy connection reads in. An idle connection
// holds no buffer at all: it waits for its next packet on one byte.
const readBufSize = 4 << 10

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

func newDeviceConn(c net.Conn, limits frameLimits, onBad func(*deviceConn, *frameError)) *deviceConn {
	return &deviceConn{Conn: c, limits: limits, onBad: onBad}
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
			if errors.As(err, &fe) && c.onBad != nil {
				c.onBad(c, fe)
			}
			return 0, err
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
	limit := c.limits.maxPacket
	if !c.connected {
		limit = c.limits.maxConnect
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
	if !c.limits.noCheck {
		if fe := checkPacket(h, pkt[1+n:]); fe != nil {
			return fe
		}
	}
	c.connected = true
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
