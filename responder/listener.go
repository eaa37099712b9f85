package responder

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// listener is a mochi listener over a net.Listener we opened ourselves, so
// that the bound address is known before mochi starts and so that every
// connection runs under a recover: mochi v2.7.9 panics on some malformed
// packets (a truncated MQTT 5 SUBSCRIBE among them) and a panic in a
// connection goroutine would otherwise end the whole process.
type listener struct {
	id  string
	ln  net.Listener
	log *slog.Logger

	mu     sync.Mutex
	closed bool
	conns  sync.WaitGroup
}

var _ listeners.Listener = (*listener)(nil)

func newListener(id string, ln net.Listener, log *slog.Logger) *listener {
	return &listener{id: id, ln: ln, log: log}
}

func (l *listener) ID() string              { return l.id }
func (l *listener) Address() string         { return l.ln.Addr().String() }
func (l *listener) Protocol() string        { return "tcp" }
func (l *listener) Init(*slog.Logger) error { return nil }

// Serve accepts connections until the listener is closed.
func (l *listener) Serve(establish listeners.EstablishFn) {
	for {
		conn, err := l.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				l.log.Error("accept failed", "error", err)
			}
			return
		}
		l.conns.Add(1)
		go l.serveConn(establish, conn)
	}
}

func (l *listener) serveConn(establish listeners.EstablishFn, conn net.Conn) {
	defer l.conns.Done()
	defer func() {
		if v := recover(); v != nil {
			_ = conn.Close()
			l.log.Error("connection handler panicked; connection closed",
				"remote", conn.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	if err := establish(l.id, conn); err != nil {
		l.log.Debug("connection ended", "remote", conn.RemoteAddr().String(), "error", err)
	}
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

// Close stops accepting and closes every client of this listener.
func (l *listener) Close(closeClients listeners.CloseFn) {
	l.stopAccepting()
	closeClients(l.id)
}
