package responder

import (
	"fmt"
	"runtime/debug"
)

// recovered cleans up after a panic in a connection goroutine, which the
// listener has caught: the packet checks should make this unreachable, so
// it is logged as an error. mochi's deferred cleanup has run by then (the
// connection is closed, its connected-clients count is down), but its
// disconnect path has not: the session would stay in mochi's client list
// and in our device registry for ever. This does what that path does.
func (r *Responder) recovered(dc *deviceConn, v any) {
	// Counted last, once the books are straight: whoever sees the count
	// sees them straight too.
	defer r.stats.recovered.Add(1)
	id := ""
	if dc.client != nil {
		id = dc.client.ID
	}
	r.handled(dc)
	r.log.Error("connection handler panicked; connection closed", "device", id,
		"remote", dc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
	cl := dc.client
	if cl == nil {
		return
	}
	cl.Stop(fmt.Errorf("responder: panic: %v", v))
	if cur, ok := r.server.Clients.Get(cl.ID); ok && cur == cl {
		r.server.UnsubscribeClient(cl)
		r.server.Clients.Delete(cl.ID)
	}
	r.sessionEnded(cl, dc, true)
}
