package edge

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound what a connection may send.
type Limits struct {
	MaxPacket  int // any packet after CONNECT, fixed header included
	MaxConnect int // the CONNECT, read before anyone is authenticated
	// NoCheck hands packets on unchecked (framing and sizes still
	// apply), for the tests that prove the recover works.
	NoCheck bool
}

// Config is what the connections of a listener share; one pointer to it
// keeps every idle connection a few words smaller.
type Config struct {
	Limits Limits
	// WriteTimeout bounds every write (0: none); Linger is how long a
	// closed connection drains what its peer still sends (0: no draining).
	WriteTimeout time.Duration
	Linger       time.Duration
	WriteFailed  func() // told once per connection whose write failed
}

// Conn is a network connection framed into MQTT packets and checked
// packet by packet (check.go) before anything above sees them: a packet
// whose declared size is over the limit is refused after its fixed
// header, before anything is allocated for it, and a malformed one is
// refused with a [*FrameError] saying why.
//
// The layer above embeds a Conn (by value: no pointer to chase per
// packet) in the net.Conn it hands mochi, after [Conn.Init]. Reads
// ([Conn.Next]) belong to the connection's goroutine.
type Conn struct {
	net.Conn
	cfg *Config

	buf       *[]byte // pooled, only while bytes are flowing
	in        []byte  // read from the network, not yet framed
	one       [1]byte
	connected bool // CONNECT has passed the checks

	// werr is the first write error. Writes are serialized by mochi's
	// client lock (every packet goes through Client.WritePacket), so it
	// needs no lock of its own.
	werr    error
	closing atomic.Bool // Close has run
}

// readBufSize is the chunk a busy connection reads in. An idle connection
// holds no buffer at all: it waits for its next packet on one byte.
const readBufSize = 4 << 10

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// Init sets c up to frame raw with the listener's cfg.
func (c *Conn) Init(raw net.Conn, cfg *Config) {
	c.Conn, c.cfg = raw, cfg
}

// Next reads and checks one whole packet. An error ends the connection:
// io.EOF is a clean end between packets, a [*FrameError] a packet that
// failed the checks.
func (c *Conn) Next() ([]byte, error) {
	pkt, err := c.next()
	if err != nil {
		c.release()
	}
	return pkt, err
}

func (c *Conn) next() ([]byte, error) {
	h, err := c.readByte()
	if err != nil {
		return nil, err // io.EOF here is a clean end between packets
	}
	var lenBytes [4]byte
	n, remaining, mult := 0, 0, 1
	for {
		b, err := c.readByte()
		if err != nil {
			return nil, unexpected(err)
		}
		lenBytes[n] = b
		n++
		remaining += int(b&0x7f) * mult
		if b&0x80 == 0 {
			if n > 1 && b == 0 {
				return nil, malformed("remaining length not minimally encoded")
			}
			break
		}
		if n == 4 {
			return nil, malformed("remaining length longer than 4 bytes")
		}
		mult *= 128
	}
	if fe := checkHeader(h, remaining, c.connected); fe != nil {
		return nil, fe
	}
	total := 1 + n + remaining
	limit := c.cfg.Limits.MaxPacket
	if !c.connected {
		limit = c.cfg.Limits.MaxConnect
	}
	if limit > 0 && total > limit {
		fe := &FrameError{Code: codePacketTooLarge, Reason: "packet too large"}
		if !c.connected {
			fe.Connack = connack(codePacketTooLarge)
		}
		return nil, fe
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
			return nil, unexpected(err)
		}
	}
	if len(c.in) == 0 {
		c.release()
	}
	if !c.cfg.Limits.NoCheck {
		if fe := checkPacket(h, pkt[1+n:]); fe != nil {
			return nil, fe
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
	return pkt, nil
}

func (c *Conn) readByte() (byte, error) {
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
func (c *Conn) fill() error {
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

func (c *Conn) release() {
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
