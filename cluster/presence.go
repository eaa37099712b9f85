package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Presence: which node holds each device's session, and since when.
//
//	<prefix>:dev:{<id>}:presence   HASH  node, epoch, since (unix ms)
//
// The hash tag is the device ID, so a fleet's presence keys spread over
// a Redis Cluster's slots; one device's keys share a slot.
//
// Every session a device opens, on any node, claims the device: the claim
// counts the epoch up by one and names the node. The epoch fences the
// device's sessions: the one with the newest epoch is the device's
// session, and any older one, wherever it is, must end (DISCONNECT 0x8E).
// Which session wins a race is decided by the order Redis runs the
// claims in, never by timing. A session that ends releases the claim,
// but only while the epoch is still its own: a newer session's claim
// stands.
//
// The epoch itself is never deleted, so it never runs backwards while
// the key exists. (A Redis failover that loses the last writes can set it
// back; see the README's "Redis topologies".)

// Holder is the session holding a device: the node it is on, its epoch,
// and when it claimed the device.
type Holder struct {
	Node  string    `json:"node"`
	Epoch uint64    `json:"epoch"`
	Since time.Time `json:"since"`
}

// claimScript claims device KEYS[1] for node ARGV[1] at ARGV[2] (unix ms)
// and returns the new epoch with the previous holder's node and since
// ("" when none).
var claimScript = redis.NewScript(`
local prev = redis.call('HMGET', KEYS[1], 'node', 'since')
local e = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'node', ARGV[1], 'since', ARGV[2])
return {e, prev[1] or '', prev[2] or ''}`)

// releaseScript clears the holder of KEYS[1] if it is still node ARGV[1]
// at epoch ARGV[2], keeping the epoch.
var releaseScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'node', 'epoch')
if h[1] == ARGV[1] and h[2] == ARGV[2] then
  return redis.call('HDEL', KEYS[1], 'node', 'since')
end
return 0`)

// presenceKey is device id's presence hash.
func (r *Registry) presenceKey(id string) string {
	return r.prefix + ":dev:{" + id + "}:presence"
}

// Claim makes this node the holder of device id's session and returns the
// new holder (with the session's epoch) and the previous one (zero if the
// device had none). The previous holder's session, if it still runs, is
// now an older session of the device and must end; it is the caller's to
// tell that node.
//
// Claims made while another batch of claims is with Redis go together in
// the next one (claims.go): a reconnect storm then costs a round trip per
// batch, not per device, and a lone claim waits for nothing.
func (n *Node) Claim(ctx context.Context, id string) (now, prev Holder, err error) {
	return n.claims.claim(ctx, n, id)
}

// claimResult decodes the claim script's answer for device id.
func (n *Node) claimResult(id string, since time.Time, res []any) (now, prev Holder, err error) {
	if len(res) != 3 {
		return Holder{}, Holder{}, fmt.Errorf("cluster: claim device %s: unexpected answer %v", id, res)
	}
	epoch, _ := res[0].(int64)
	now = Holder{Node: n.opts.ID, Epoch: uint64(epoch), Since: time.UnixMilli(since.UnixMilli())}
	if node, _ := res[1].(string); node != "" {
		prev.Node = node
		prev.Epoch = now.Epoch - 1
		if ms, err := strconv.ParseInt(fmt.Sprint(res[2]), 10, 64); err == nil {
			prev.Since = time.UnixMilli(ms)
		}
	}
	return now, prev, nil
}

// Release clears device id's holder if it is still this node at epoch:
// the session that claimed it has ended. It reports whether it did; false
// means a newer session holds the device (or nobody does).
func (n *Node) Release(ctx context.Context, id string, epoch uint64) (bool, error) {
	rctx, cancel := n.edge.RT(ctx)
	defer cancel()
	k, err := releaseScript.Run(rctx, n.rdb, []string{n.presenceKey(id)}, n.opts.ID, epoch).Int()
	if err != nil {
		return false, n.edge.Err("release device "+id, err)
	}
	return k > 0, nil
}

// ReleaseAll is [Node.Release] for many sessions at once, in one round
// trip per Redis node: the sessions of a reconnect storm end by the
// thousand. sessions maps each device to the epoch of its session that
// ended (of two that ended, the newer: releasing the older is a no-op).
func (n *Node) ReleaseAll(ctx context.Context, sessions map[string]uint64) error {
	if len(sessions) == 0 {
		return nil
	}
	ids := make([]string, 0, len(sessions))
	for id := range sessions {
		ids = append(ids, id)
	}
	rctx, cancel := context.WithTimeout(ctx, n.edge.Timeout()*time.Duration(1+len(ids)/5000))
	defer cancel()
	cmds, err := n.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			releaseScript.EvalSha(rctx, p, []string{n.presenceKey(id)}, n.opts.ID, sessions[id])
		}
		return nil
	})
	if err == nil {
		return nil
	}
	// A Redis that has not seen the script yet (its first release, or
	// after a restart) answers NOSCRIPT: those go one by one, which loads
	// it.
	var errs []error
	for i, c := range cmds {
		switch err := c.Err(); {
		case err == nil:
		case redis.HasErrorPrefix(err, "NOSCRIPT"):
			if _, err := n.Release(ctx, ids[i], sessions[ids[i]]); err != nil {
				errs = append(errs, err)
			}
		default:
			errs = append(errs, n.edge.Err("release device "+ids[i], err))
		}
	}
	return errors.Join(errs...)
}

// Lookup returns the holders of the devices ids that are connected now,
// by device ID: those with a holder whose node is alive. A device whose
// holder's node has died is not connected, whatever its key still says,
// so no presence outlives its node's liveness bound.
func (r *Registry) Lookup(ctx context.Context, ids ...string) (map[string]Holder, error) {
	out := make(map[string]Holder, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	alive, err := r.alive(ctx)
	if err != nil {
		return nil, err
	}
	rctx, cancel := r.edge.RT(ctx)
	defer cancel()
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err = r.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(rctx, r.presenceKey(id), "node", "epoch", "since")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, r.edge.Err("look up device presence", err)
	}
	for i, c := range cmds {
		v := c.Val()
		node, _ := v[0].(string)
		if node == "" || !alive[node] {
			continue
		}
		h := Holder{Node: node}
		h.Epoch, _ = strconv.ParseUint(fmt.Sprint(v[1]), 10, 64)
		if ms, err := strconv.ParseInt(fmt.Sprint(v[2]), 10, 64); err == nil {
			h.Since = time.UnixMilli(ms)
		}
		out[ids[i]] = h
	}
	return out, nil
}

// aliveFor is how long a list of the live nodes is reused: device pages
// and routed commands look up presence often, and a node's liveness moves
// at the pace of heartbeats (seconds).
const aliveFor = 500 * time.Millisecond

// aliveCache is the live nodes as last listed.
type aliveCache struct {
	mu    sync.Mutex
	at    time.Time
	nodes map[string]bool
}

// alive returns the IDs of the live nodes, listed at most aliveFor ago.
func (r *Registry) alive(ctx context.Context) (map[string]bool, error) {
	c := &r.aliveCache
	c.mu.Lock()
	defer c.mu.Unlock()
	now := r.now()
	if c.nodes != nil && now.Sub(c.at) >= 0 && now.Sub(c.at) < aliveFor {
		return c.nodes, nil
	}
	nodes, err := r.Nodes(ctx)
	if nodes == nil && err != nil {
		return nil, err
	}
	// An unreadable entry (err with nodes) hides only that node.
	m := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		if n.Alive {
			m[n.ID] = true
		}
	}
	c.at, c.nodes = now, m
	return m, nil
}
