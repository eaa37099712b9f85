package responder

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// listener is a mochi listener over a net.Listener we opened ourselves, so
// that the bound address is known before mochi starts, and so that every
// connection is set up our way before mochi sees it: TLS if configured, a
// deadline for the first packet (mochi sets none, so a socket that never
// sends CONNECT would be held for ever; deviceConn lifts it once the
// CONNECT is read, and mochi sets the keep-alive deadline after the CONNECT
// hooks), the packet framing and checks of deviceConn, and a recover,
// because a panic in a connection goroutine would otherwise end the whole
// process.
type listener struct {
	id          string
	ln          net.Listener
	tls         *tls.Config // nil: plain TCP
	firstPacket time.Duration
	wrap        func(net.Conn) *deviceConn
	recovered   func(*deviceConn, any)
	throttle    *connThrottle
	log         *slog.Logger

	// disconnect sends DISCONNECT to this listener's sessions at shutdown.
	// mochi's own CloseFn cannot be used: Clients.GetByListener read-locks
	// the client map twice, so a connection that is added or removed at
	// that moment deadlocks the shutdown (seen in CI).
	disconnect func(listenerID string)

	mu     sync.Mutex
	closed bool
	open   map[*deviceConn]struct{} // every accepted connection not yet ended
	conns  sync.WaitGroup
}

var _ listeners.Listener = (*listener)(nil)

func (l *listener) ID() string              { return l.id }
func (l *listener) Address() string         { return l.ln.Addr().String() }
func (l *listener) Init(*slog.Logger) error { return nil }

func (l *listener) Protocol() string {
	if l.tls != nil {
		return "tls"
	}
	return "tcp"
}

// Serve accepts connections until the listener is closed. Any other
// accept error (out of file descriptors, say, because someone opened
// thousands of sockets) is waited out, as net/http does: giving up would
// leave the server deaf for good.
func (l *listener) Serve(establish listeners.EstablishFn) {
	var backoff time.Duration
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.log.Error("accept failed; retrying", "listener", l.id, "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		l.conns.Add(1)
		go l.serveConn(establish, conn)
	}
}

func (l *listener) serveConn(establish listeners.EstablishFn, raw net.Conn) {
	defer l.conns.Done()
	// Before TLS: a source that holds too many sockets it has not
	// authenticated on gets no handshake either.
	if !l.throttle.open(raw) {
		_ = raw.Close()
		return
	}
	defer l.throttle.closed(raw)
	// The deadline covers the TLS handshake and the CONNECT, not its
	// authentication (see deviceConn.next).
	_ = raw.SetDeadline(time.Now().Add(l.firstPacket))
	var conn net.Conn = raw
	if l.tls != nil {
		conn = tls.Server(raw, l.tls)
	}
	dc := l.wrap(conn)
	if !l.track(dc) {
		return
	}
	defer l.untrack(dc)
	defer dc.finish()
	defer func() {
		if v := recover(); v != nil {
			_ = dc.Close()
			l.recovered(dc, v)
		}
	}()
	if err := establish(l.id, dc); err != nil {
		l.log.Debug("connection ended", "listener", l.id, "remote", raw.RemoteAddr().String(), "error", err)
	}
}

// track records an open connection, or closes it if the listener is
// closed already.
func (l *listener) track(c *deviceConn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Conn.Close()
		return false
	}
	if l.open == nil {
		l.open = map[*deviceConn]struct{}{}
	}
	l.open[c] = struct{}{}
	return true
}

func (l *listener) untrack(c *deviceConn) {
	l.mu.Lock()
	delete(l.open, c)
	l.mu.Unlock()
}

// stopAccepting closes the network listener but leaves connections open.
func (l *listener) stopAccepting() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		_ = l.ln.Close()
	}
}

// Close stops accepting and closes every client of this listener: mochi
// disconnects the sessions it knows (DISCONNECT 0x8B), and connections
// that have not got that far are closed here, because mochi waits for
// every connection it was handed before its Close returns. Both close
// gracefully (deviceConn.Close); wait waits for the sockets to be gone.
func (l *listener) Close(listeners.CloseFn) {
	l.stopAccepting()
	l.disconnect(l.id)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.open {
		_ = c.Close()
	}
}

// wait waits until every connection's socket is closed, or ctx ends: an
// exiting process would reset the connections still draining.
func (l *listener) wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { l.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
