package responder_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"
)

// Raw MQTT 5 for the tests that must send what no client library would.

// vbi encodes a Variable Byte Integer.
func vbi(n int) []byte {
	var b []byte
	for {
		c := byte(n % 128)
		n /= 128
		if n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

// mstr is a length-prefixed string or binary field.
func mstr(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

func u16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// pkt builds a packet from its first byte and body parts.
func pkt(h byte, body ...[]byte) []byte {
	b := cat(body...)
	return cat([]byte{h}, vbi(len(b)), b)
}

// props is a property list with its length.
func props(p ...[]byte) []byte { b := cat(p...); return cat(vbi(len(b)), b) }

// connectPacket is a v5 CONNECT with clean start, keep-alive 30 s and the
// given credentials (none if user is empty).
func connectPacket(id, user, pass string) []byte {
	flags := byte(0x02)
	var creds []byte
	if user != "" {
		flags |= 0x80
		creds = append(creds, mstr(user)...)
	}
	if pass != "" {
		flags |= 0x40
		creds = append(creds, mstr(pass)...)
	}
	return pkt(0x10, mstr("MQTT"), []byte{5, flags}, u16(30), props(), mstr(id), creds)
}

// rawClient is a TCP connection that speaks MQTT by hand.
type rawClient struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(tb testing.TB, addr string) *rawClient {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return &rawClient{Conn: c, br: bufio.NewReader(c)}
}

// mustConnectRaw registers device id and connects it by hand.
func (s *testServer) mustConnectRaw(tb testing.TB, id string) *rawClient {
	tb.Helper()
	secret := s.MustRegister(tb, id, testModel)
	c := dialRaw(tb, s.MQTTAddr)
	c.send(tb, connectPacket(id, id, secret))
	h, body := c.mustRead(tb)
	if h != 0x20 || len(body) < 2 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x, want success", h, body)
	}
	return c
}

func (c *rawClient) send(tb testing.TB, b []byte) {
	tb.Helper()
	if _, err := c.Write(b); err != nil {
		tb.Fatalf("write: %v", err)
	}
}

// read reads one packet within 5 s.
func (c *rawClient) read() (byte, []byte, error) {
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

func (c *rawClient) mustRead(tb testing.TB) (byte, []byte) {
	tb.Helper()
	h, body, err := c.read()
	if err != nil {
		tb.Fatalf("read: %v", err)
	}
	return h, body
}

// closedAfter reads until the server closes the connection and returns the
// reason code of the DISCONNECT or CONNACK it sent first, or -1 if it sent
// none.
func (c *rawClient) closedAfter() (int, error) {
	code := -1
	for {
		h, body, err := c.read()
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

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && !oe.Timeout() && !errors.Is(err, os.ErrDeadlineExceeded)
}

// goroutinesBack waits until the process runs at most baseline goroutines
// of its own (see [goroutines]), the proof that a scenario left nothing
// behind on the server.
func goroutinesBack(tb testing.TB, baseline int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for goroutines() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("%d goroutines, baseline %d:\n%s", goroutines(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goroutines counts the goroutines of the process except the in-process
// Redis's (miniredis runs one per client connection, and go-redis opens
// more connections when a scenario's load calls for them and keeps them
// pooled: that is the pool's size, not a leak).
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if len(g) > 0 && !bytes.Contains(g, []byte("github.com/alicebob/miniredis")) {
			count++
		}
	}
	return count
}
