package appliance

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestDialFailsWhenTheServerHangsUpBeforeSubAck: a server that ends the
// connection between the CONNACK and the SUBACK (a device taken over at
// that moment: DISCONNECT 0x8E) makes Dial fail at once, not at the end
// of its context.
func TestDialFailsWhenTheServerHangsUpBeforeSubAck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		// The CONNECT, then a v5 CONNACK: success, no properties.
		if err := readPacket(conn); err != nil {
			return
		}
		if _, err := conn.Write([]byte{0x20, 0x03, 0x00, 0x00, 0x00}); err != nil {
			return
		}
		// The SUBSCRIBE, answered with DISCONNECT 0x8E (session taken
		// over), as a server does to a device that connected elsewhere.
		if err := readPacket(conn); err != nil {
			return
		}
		_, _ = conn.Write([]byte{0xE0, 0x02, 0x8E, 0x00})
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, Options{Addr: ln.Addr().String(), ID: "oven-1"})
	if err == nil {
		_ = c.Close()
		t.Fatal("Dial succeeded without a SUBACK")
	}
	// paho itself sometimes notices first ("no connection available");
	// what must not happen is a wait for the SUBACK until a deadline.
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial: %v (context: %v); want it to fail at once because the connection ended", err, ctx.Err())
	}
}

// readPacket reads one MQTT packet: its fixed header, then its body.
func readPacket(r io.Reader) error {
	var b [1]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return err
	}
	n, mult := 0, 1
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return err
		}
		n += int(b[0]&0x7f) * mult
		if b[0]&0x80 == 0 {
			break
		}
		mult *= 128
	}
	_, err := io.CopyN(io.Discard, r, int64(n))
	return err
}
