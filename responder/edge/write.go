package edge

import (
	"fmt"
	"time"
)

// Writing and closing: every write has its own deadline, and a closed
// connection ends with a FIN, not a reset.

// Write writes one encoded packet with a deadline of its own, so that a
// device that stops reading is cut off after the write timeout rather than
// after one and a half keep-alives, which a device that still sends
// PINGREQs renews for ever. Any failure ends the connection at once: the
// packet may be half on the wire, and anything written after it would
// corrupt the stream.
func (c *Conn) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	if t := c.cfg.WriteTimeout; t > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		c.werr = fmt.Errorf("edge: write to peer: %w", err)
		_ = c.Close()
		if c.cfg.WriteFailed != nil {
			c.cfg.WriteFailed()
		}
		return n, c.werr
	}
	return n, nil
}

// SetDeadline is how mochi sets the keep-alive deadline before each packet
// it reads. It applies to reads only (writes have their own, see Write),
// and not at all once the connection is closing.
func (c *Conn) SetDeadline(t time.Time) error {
	if c.closing.Load() {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// Close ends the connection without a reset: whatever was written (a
// DISCONNECT, say) is followed by a FIN, and mochi's reader is woken up.
// The socket itself is closed by Finish, once the peer has had time to
// read what it was sent: closing a socket that still has unread input
// makes the kernel send a reset, and a reset can destroy the DISCONNECT
// before the peer reads it.
func (c *Conn) Close() error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok && c.cfg.Linger > 0 && cw.CloseWrite() == nil {
		return c.Conn.SetReadDeadline(time.Now())
	}
	return c.Conn.Close()
}

// Finish closes the socket once mochi is done with the connection,
// draining what a peer that sent a CONNECT still sends for up to the
// linger time. It runs on the connection's goroutine.
func (c *Conn) Finish() {
	c.closing.Store(true)
	c.release()
	if c.cfg.Linger > 0 && c.connected {
		if c.Conn.SetReadDeadline(time.Now().Add(c.cfg.Linger)) == nil {
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

// Refuse writes fe's CONNACK, if it has one, straight to the socket: the
// connection was refused at CONNECT, before mochi could answer it.
func (c *Conn) Refuse(fe *FrameError) {
	if fe.Connack != nil {
		_, _ = c.Conn.Write(fe.Connack)
	}
}
