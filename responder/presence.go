package responder

import (
	"context"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// One session per device, cluster-wide. With [Options.Presence] set, every
// authenticated CONNECT claims its device before its CONNACK and gets the
// claim's epoch; the device's session is the one with the newest epoch,
// on whichever node, and every older one ends with DISCONNECT 0x8E
// (session taken over):
//
//   - on another node, when that node is told (a takeover notice, see
//     [Responder.TakenOver]), or, if the notice was lost, when it next
//     checks its sessions against the stored epochs ([Responder.CheckSessions]);
//   - on this node, by mochi's own takeover. Claims of one device on one
//     node are serialized up to the point where mochi has filed the new
//     session, so that mochi's order of takeovers is the order of the
//     epochs;
//   - a session established after a newer epoch was seen here (a notice
//     that arrived while it was connecting) is ended at once, like a
//     revoked one (revoke.go).
//
// A session that ends releases its claim in the background, but only while
// the epoch is still its own: a newer session's claim stands.

// Presence is what the responder needs from the cluster to keep each
// device to one session (cluster.Node provides it).
type Presence interface {
	// ClaimSession makes this node the holder of device id's session and
	// returns the session's epoch; the previous holder's node, if another,
	// is told to end its older session.
	ClaimSession(ctx context.Context, id string) (epoch uint64, err error)
	// ReleaseAll clears the holder of each device in sessions if it is
	// still this node at the epoch given.
	ReleaseAll(ctx context.Context, sessions map[string]uint64) error
	// Epochs returns the newest epoch of each device among ids.
	Epochs(ctx context.Context, ids []string) (map[string]uint64, error)
}

// epochMemory is how long the newest epoch seen of a device is
// remembered: far longer than any CONNECT takes from its claim to its
// session.
const epochMemory = time.Minute

// epochs remembers the newest epoch seen of each device: its claims here
// and the takeover notices from other nodes.
type epochs struct {
	mu        sync.Mutex
	last      map[string]seenEpoch
	nextSweep int
}

type seenEpoch struct {
	epoch uint64
	at    time.Time
}

// see records epoch of id if it is the newest seen.
func (e *epochs) see(id string, epoch uint64, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last == nil {
		e.last = map[string]seenEpoch{}
	}
	// Forgetting is amortized: a sweep only once the map has doubled since
	// the last one, so that a connect storm does not sweep on every claim.
	if len(e.last) >= max(e.nextSweep, 64) {
		for k, v := range e.last {
			if now.Sub(v.at) > epochMemory {
				delete(e.last, k)
			}
		}
		e.nextSweep = 2 * len(e.last)
	}
	if v, ok := e.last[id]; !ok || epoch > v.epoch {
		e.last[id] = seenEpoch{epoch: epoch, at: now}
	}
}

// newer reports whether an epoch newer than epoch of id was seen.
func (e *epochs) newer(id string, epoch uint64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	v, ok := e.last[id]
	return ok && v.epoch > epoch
}

// claimLocks serializes the claims of one device on this node, each from
// before its claim until mochi has filed its session (its CONNACK is
// being written) or its connection ended.
type claimLocks struct {
	mu sync.Mutex
	m  map[string]*claimLock
}

type claimLock struct {
	ch      chan struct{} // holds one token while locked
	waiters int           // holders and waiters; the entry goes with the last
}

func (l *claimLocks) lock(id string) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*claimLock{}
	}
	c := l.m[id]
	if c == nil {
		c = &claimLock{ch: make(chan struct{}, 1)}
		l.m[id] = c
	}
	c.waiters++
	l.mu.Unlock()
	c.ch <- struct{}{}
}

func (l *claimLocks) unlock(id string) {
	l.mu.Lock()
	c := l.m[id]
	c.waiters--
	if c.waiters == 0 {
		delete(l.m, id)
	}
	l.mu.Unlock()
	<-c.ch
}

// claim claims device id for the connection dc, holding the device's
// claim lock until dc's session is filed (claimDone). It returns 0x88 if
// the claim could not be made: like an authentication outage, not the
// device's fault.
func (r *Responder) claim(dc *deviceConn, id string) packets.Code {
	r.claims.lock(id)
	dc.claimID = id
	dc.claimHeld.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.StoreTimeout)
	defer cancel()
	epoch, err := r.opts.Presence.ClaimSession(ctx, id)
	if err != nil {
		r.claimDone(dc)
		r.log.Warn("cannot claim the device's session", "device", id, "error", err)
		return packets.ErrServerUnavailable
	}
	r.epochs.see(id, epoch, time.Now())
	dc.epoch.Store(epoch)
	return packets.CodeSuccess
}

// claimDone lets the device's next claim on this node go ahead. It may
// run from the connection's goroutine and from the one closing it, once.
func (r *Responder) claimDone(dc *deviceConn) {
	if dc.claimHeld.CompareAndSwap(true, false) {
		r.claims.unlock(dc.claimID)
	}
}

// connClosed releases dc's claim, if it made one, once its connection is
// closed: in the background (release.go), so that no goroutine of
// mochi's waits on the store.
func (r *Responder) connClosed(dc *deviceConn) {
	r.claimDone(dc)
	epoch := dc.epoch.Swap(0)
	if epoch == 0 || r.opts.Presence == nil {
		return
	}
	r.releaseLater(dc.claimID, epoch)
}

// staleSession ends cl at once if a newer session of its device was seen
// while it was connecting (a takeover notice arrived before it was
// established), and reports whether it did.
func (r *Responder) staleSession(cl *mqtt.Client, dc *deviceConn) bool {
	e := dc.epoch.Load()
	if e == 0 || !r.epochs.newer(cl.ID, e) {
		return false
	}
	r.log.Info("device session ended: a newer session of the device started while it was connecting", "device", cl.ID, "epoch", e)
	go func() { _ = r.server.DisconnectClient(cl, packets.ErrSessionTakenOver) }()
	return true
}

// TakenOver is a takeover notice: device id's sessions older than epoch
// are superseded by a session on another node. The one here, if any, ends
// with DISCONNECT 0x8E, and one still connecting ends once established.
func (r *Responder) TakenOver(id string, epoch uint64) {
	r.epochs.see(id, epoch, time.Now())
	r.gate.RLock()
	srv := r.server
	r.gate.RUnlock()
	if srv == nil {
		return
	}
	cl, ok := srv.Clients.Get(id)
	if !ok || cl.Net.Inline || cl.Closed() {
		return
	}
	if dc := connOf(cl); dc != nil {
		if e := dc.epoch.Load(); e != 0 && e < epoch {
			r.log.Info("device session ended: taken over on another node", "device", id, "epoch", e, "newer_epoch", epoch)
			go func() { _ = srv.DisconnectClient(cl, packets.ErrSessionTakenOver) }()
		}
	}
}

// CheckSessions ends the sessions here whose device has a newer epoch in
// the store: for takeover notices that may have been lost (the
// subscription to them was interrupted). It returns how many it ended.
func (r *Responder) CheckSessions(ctx context.Context) (int, error) {
	r.gate.RLock()
	srv := r.server
	r.gate.RUnlock()
	if srv == nil || r.opts.Presence == nil {
		return 0, nil
	}
	held := map[string]*mqtt.Client{}
	var ids []string
	for _, cl := range srv.Clients.GetAll() {
		if dc := connOf(cl); dc != nil && !cl.Closed() && dc.epoch.Load() != 0 {
			held[cl.ID] = cl
			ids = append(ids, cl.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	current, err := r.opts.Presence.Epochs(ctx, ids)
	if err != nil {
		return 0, err
	}
	ended := 0
	for id, cl := range held {
		if e := connOf(cl).epoch.Load(); e != 0 && current[id] > e {
			r.log.Info("device session ended: taken over on another node while this node missed the notice", "device", id, "epoch", e, "newer_epoch", current[id])
			ended++
			go func() { _ = srv.DisconnectClient(cl, packets.ErrSessionTakenOver) }()
		}
	}
	return ended, nil
}

// ConnectedSince returns when each device among ids that is connected
// here now established its session.
func (r *Responder) ConnectedSince(ids ...string) map[string]time.Time {
	out := make(map[string]time.Time, len(ids))
	for _, id := range ids {
		d := r.devices.Get(id)
		if d == nil {
			continue
		}
		if cl := d.Client(); cl != nil {
			if dc := connOf(cl); dc != nil {
				out[id] = dc.since
			}
		}
	}
	return out
}

// waitCtx waits for wg, or until ctx ends.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// SessionEpoch returns the epoch of device id's session here: 0 if it has
// none, or its session claimed nothing (a single node).
func (r *Responder) SessionEpoch(id string) uint64 {
	d := r.devices.Get(id)
	if d == nil {
		return 0
	}
	if cl := d.Client(); cl != nil {
		if dc := connOf(cl); dc != nil && !cl.Closed() {
			return dc.epoch.Load()
		}
	}
	return 0
}
