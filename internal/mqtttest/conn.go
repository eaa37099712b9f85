package mqtttest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// Conn is a TCP connection that speaks MQTT by hand.
type Conn struct {
	net.Conn
	br *bufio.Reader
}

// Dial opens a TCP connection to addr, closed when the test ends.
func Dial(tb testing.TB, addr string) *Conn {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = nc.Close() })
	return NewConn(nc)
}

// NewConn speaks MQTT by hand over nc, a TLS connection for instance.
func NewConn(nc net.Conn) *Conn { return &Conn{Conn: nc, br: bufio.NewReader(nc)} }

// DialDevice connects id anonymously with the CONNECT properties props
// and subscribes it to devices/<id>/# at qos.
func DialDevice(tb testing.TB, addr, id string, props []byte, qos byte) *Conn {
	tb.Helper()
	c := Dial(tb, addr)
	c.Send(tb, Connect(id, "", "", props))
	if h, body := c.MustRead(tb); h != 0x20 || len(body) < 2 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x, want success", h, body)
	}
	c.Send(tb, Frame(0x82, []byte{0, 1, 0}, Str("devices/"+id+"/#"), []byte{qos}))
	if h, _ := c.MustRead(tb); h != 0x90 {
		tb.Fatalf("want SUBACK, got %02x", h)
	}
	return c
}

// Send writes b.
func (c *Conn) Send(tb testing.TB, b []byte) {
	tb.Helper()
	if _, err := c.Write(b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// ReadPacket reads one packet within 5 s: its first byte and its body.
func (c *Conn) ReadPacket() (byte, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := c.br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		b, err := c.br.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		if i == 3 {
			return 0, nil, errors.New("bad remaining length from server")
		}
		mult *= 128
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.br, body)
	return h, body, err
}

// MustRead reads one packet within 5 s.
func (c *Conn) MustRead(tb testing.TB) (byte, []byte) {
	tb.Helper()
	h, body, err := c.ReadPacket()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return h, body
}

// Answered sends a request for device id and waits for its reply.
func (c *Conn) Answered(tb testing.TB, id string) {
	tb.Helper()
	c.Send(tb, Request(id))
	if h, _ := c.MustRead(tb); h>>4 != 3 {
		tb.Fatalf("want the reply PUBLISH, got %02x", h)
	}
}

// ClosedAfter reads until the server closes the connection and returns the
// reason code of the DISCONNECT or CONNACK it sent first, or -1 if it sent
// none.
func (c *Conn) ClosedAfter() (int, error) {
	code := -1
	for {
		h, body, err := c.ReadPacket()
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err):
			return code, nil
		case err != nil:
			return code, fmt.Errorf("connection not closed: %w", err)
		case code >= 0:
		case h == 0xe0 && len(body) > 0: // DISCONNECT: reason code first
			code = int(body[0])
		case h == 0x20 && len(body) > 1: // CONNACK: flags, then reason code
			code = int(body[1])
		}
	}
}

// WaitClosed reads until the server closes the connection.
func (c *Conn) WaitClosed(tb testing.TB) {
	tb.Helper()
	if _, err := c.ClosedAfter(); err != nil {
		tb.Fatalf("the server did not close the connection: %v", err)
	}
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout() && !errors.Is(err, os.ErrDeadlineExceeded)
}

// ReadByte reads the next byte the server sent, within the read deadline
// the caller set.
func (c *Conn) ReadByte() (byte, error) { return c.br.ReadByte() }
