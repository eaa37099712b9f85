package responder

import (
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"
)

// Revocations. When a device's registration changes (disabled, deleted,
// re-keyed, another model) its session must end. Ending the session it has
// is [Responder.Disconnect]; but a connection of that device may be
// half-way through CONNECT, its registry answer read before the change
// and the session not yet in mochi's client list, where Disconnect looks.
// So every revocation is numbered, each authentication notes the number
// before it asks the registry, and a session established after a newer
// revocation of its device is ended at once.

// revocationMemory is how long a revocation is remembered: far longer
// than any CONNECT takes from its registry answer to its session.
const revocationMemory = time.Minute

type revocations struct {
	mu   sync.Mutex
	seq  uint64
	last map[string]revocation
}

type revocation struct {
	seq uint64
	at  time.Time
}

// current returns the number of the latest revocation.
func (rv *revocations) current() uint64 {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return rv.seq
}

// mark numbers a revocation of id, forgetting old ones.
func (rv *revocations) mark(id string, now time.Time) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.last == nil {
		rv.last = map[string]revocation{}
	}
	if len(rv.last) >= 64 {
		for k, v := range rv.last {
			if now.Sub(v.at) > revocationMemory {
				delete(rv.last, k)
			}
		}
	}
	rv.seq++
	rv.last[id] = revocation{seq: rv.seq, at: now}
}

// since reports whether id was revoked after revocation number seq.
func (rv *revocations) since(id string, seq uint64) bool {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	v, ok := rv.last[id]
	return ok && v.seq > seq
}

// Revoke ends device id's session, if it has one, with DISCONNECT 0x98
// (administrative action), and any session of id whose authentication was
// under way, so that a change to the device's registration takes effect
// at once rather than at its next CONNECT. It reports whether id had an
// established session here. It may be called before [Responder.Start].
func (r *Responder) Revoke(id string) bool {
	r.revoked.mark(id, time.Now())
	return r.Disconnect(id)
}

// Disconnect ends device id's session, if it has one, with DISCONNECT
// 0x98, and reports whether it had one. The DISCONNECT is written in the
// background: a device that does not read must not hold up the caller.
func (r *Responder) Disconnect(id string) bool {
	r.gate.RLock()
	srv := r.server
	r.gate.RUnlock()
	if srv == nil {
		return false
	}
	cl, ok := srv.Clients.Get(id)
	if !ok || cl.Net.Inline || cl.Closed() {
		return false
	}
	go func() { _ = srv.DisconnectClient(cl, packets.ErrAdministrativeAction) }()
	return true
}
