package edge

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

// A Listener is a mochi listener over a net.Listener we opened ourselves, so
// that the bound address is known before mochi starts, and so that every
// connection is set up our way before mochi sees it: TLS if configured, a
// deadline for the first packet (mochi sets none, so a socket that never
// sends CONNECT would be held for ever; Conn lifts it once the
// CONNECT is read, and mochi sets the keep-alive deadline after the CONNECT
// hooks), the packet framing and checks of [Conn], and a recover,
// because a panic in a connection goroutine would otherwise end the whole
// process.
type Listener struct {
	ListenerConfig

	mu     sync.Mutex
	closed bool
	open   map[*Conn]struct{} // every accepted connection not yet ended
	conns  sync.WaitGroup
}

// ListenerConfig sets up a [Listener].
type ListenerConfig struct {
	ID          string
	Listener    net.Listener
	TLS         *tls.Config // nil: plain TCP
	FirstPacket time.Duration

	// Wrap makes the net.Conn mochi will serve, embedding the [Conn]
	// that frames raw (see [Guarded]).
	Wrap func(raw net.Conn) Guarded
	// Recovered is told of a panic in a connection goroutine, after the
	// connection is closed, to put the books of the layers above straight.
	Recovered func(Guarded, any)
	Throttle  *Throttle
	Log       *slog.Logger

	// Disconnect sends DISCONNECT to this listener's sessions at shutdown.
	// mochi's own CloseFn cannot be used: Clients.GetByListener read-locks
	// the client map twice, so a connection that is added or removed at
	// that moment deadlocks the shutdown (seen in CI).
	Disconnect func(listenerID string)
}

// Guarded is the connection a [Listener] hands mochi: the layer above's
// own net.Conn around a [Conn], which Edge returns.
type Guarded interface {
	net.Conn
	Edge() *Conn
}

// NewListener returns a listener; it does no I/O until mochi calls Serve.
func NewListener(c ListenerConfig) *Listener { return &Listener{ListenerConfig: c} }

var _ listeners.Listener = (*Listener)(nil)

func (l *Listener) ID() string              { return l.ListenerConfig.ID }
func (l *Listener) Address() string         { return l.Listener.Addr().String() }
func (l *Listener) Init(*slog.Logger) error { return nil }

func (l *Listener) Protocol() string {
	if l.TLS != nil {
		return "tls"
	}
	return "tcp"
}

// Serve accepts connections until the listener is closed. Any other
// accept error (out of file descriptors, say, because someone opened
// thousands of sockets) is waited out, as net/http does: giving up would
// leave the server deaf for good.
func (l *Listener) Serve(establish listeners.EstablishFn) {
	var backoff time.Duration
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.Log.Error("accept failed; retrying", "listener", l.ListenerConfig.ID, "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		l.conns.Add(1)
		go l.serveConn(establish, conn)
	}
}

func (l *Listener) serveConn(establish listeners.EstablishFn, raw net.Conn) {
	defer l.conns.Done()
	// Before TLS: a source that holds too many sockets it has not
	// authenticated on gets no handshake either.
	if !l.Throttle.Open(raw) {
		_ = raw.Close()
		return
	}
	defer l.Throttle.Closed(raw)
	// The deadline covers the TLS handshake and the CONNECT, not its
	// authentication (see Conn.Next).
	_ = raw.SetDeadline(time.Now().Add(l.FirstPacket))
	var conn net.Conn = raw
	if l.TLS != nil {
		conn = tls.Server(raw, l.TLS)
	}
	g := l.Wrap(conn)
	dc := g.Edge()
	if !l.track(dc) {
		return
	}
	defer l.untrack(dc)
	defer dc.Finish()
	defer func() {
		if v := recover(); v != nil {
			_ = dc.Close()
			l.Recovered(g, v)
		}
	}()
	if err := establish(l.ListenerConfig.ID, g); err != nil {
		l.Log.Debug("connection ended", "listener", l.ListenerConfig.ID, "remote", raw.RemoteAddr().String(), "error", err)
	}
}

// track records an open connection, or closes it if the listener is
// closed already.
func (l *Listener) track(c *Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		_ = c.Conn.Close()
		return false
	}
	if l.open == nil {
		l.open = map[*Conn]struct{}{}
	}
	l.open[c] = struct{}{}
	return true
}

func (l *Listener) untrack(c *Conn) {
	l.mu.Lock()
	delete(l.open, c)
	l.mu.Unlock()
}

// StopAccepting closes the network listener but leaves connections open.
func (l *Listener) StopAccepting() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed {
		l.closed = true
		_ = l.Listener.Close()
	}
}

// Close stops accepting and closes every client of this listener: mochi
// disconnects the sessions it knows (DISCONNECT 0x8B), and connections
// that have not got that far are closed here, because mochi waits for
// every connection it was handed before its Close returns. Both close
// gracefully (Conn.Close); Wait waits for the sockets to be gone.
func (l *Listener) Close(listeners.CloseFn) {
	l.StopAccepting()
	l.Disconnect(l.ListenerConfig.ID)
	l.mu.Lock()
	defer l.mu.Unlock()
	for c := range l.open {
		_ = c.Close()
	}
}

// Wait waits until every connection's socket is closed, or ctx ends: an
// exiting process would reset the connections still draining.
func (l *Listener) Wait(ctx context.Context) {
	done := make(chan struct{})
	go func() { l.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
