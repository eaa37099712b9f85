package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Drain requests. A node is asked to drain by a message on its own
// channel,
//
//	{p}:node:<id>   channel PUBLISH {"kind":"drain"}
//
// the channel every node-to-node message for that node travels on. Other
// kinds of message on it are not drain requests and are ignored here. A
// request published while the node is not subscribed (it is restarting,
// or Redis is) is lost; [Registry.RequestDrain] only sends to a node the
// registry lists alive, and the caller can watch the registry for the
// drain to show.

// drainKind is the kind of a drain request.
const drainKind = "drain"

// drainRequest is a message on a node's channel as read here: its kind only.
type drainRequest struct {
	Kind string `json:"kind"`
}

// nodeChannel returns node id's channel, "{p}:node:<id>": it shares the
// registry's hash tag, so in a Redis Cluster it lives on the registry's
// slot.
func (r *Registry) nodeChannel(id string) string {
	return strings.TrimSuffix(r.key, "nodes") + "node:" + id
}

// RequestDrain asks node id to drain: it marks itself draining, sends its
// devices to other nodes and exits. It returns ENOTFOUND if no node id is
// registered, ECONFLICT if it is dead (nobody would receive the request),
// and EUNAVAILABLE if Redis cannot be reached. Asking a node that drains
// already is not an error.
func (r *Registry) RequestDrain(ctx context.Context, id string) error {
	nodes, err := r.Nodes(ctx)
	if err != nil && len(nodes) == 0 {
		return err
	}
	i := slices.IndexFunc(nodes, func(n recipes.Node) bool { return n.ID == id })
	if i < 0 {
		ids := make([]string, len(nodes))
		for j, n := range nodes {
			ids[j] = n.ID
		}
		known := "no node is registered"
		if len(ids) > 0 {
			known = "registered: " + strings.Join(ids, ", ")
		}
		return recipes.Errorf(recipes.ENOTFOUND, "Node %q is not registered (%s).", id, known)
	}
	if n := nodes[i]; !n.Alive {
		return recipes.Errorf(recipes.ECONFLICT, "Node %q is dead: its last heartbeat was %s ago, so nobody would receive the request; it is forgotten once its entry expires.",
			id, r.now().Sub(n.LastHeartbeat).Round(time.Second))
	}
	raw, err := json.Marshal(drainRequest{Kind: drainKind})
	if err != nil {
		return fmt.Errorf("cluster: encode drain request: %w", err)
	}
	rctx, cancel := r.edge.RT(ctx)
	defer cancel()
	return r.edge.Err("request drain of "+id, r.rdb.Publish(rctx, r.nodeChannel(id), raw).Err())
}

// receiveEvery is how long a receive on the node's channel waits before
// it looks at ctx again.
const receiveEvery = 2 * time.Second

// WatchDrainRequests calls drain for each drain request sent to this node
// until ctx ends. It returns once Redis has confirmed the subscription,
// so that no request sent after it returns is missed, and watches in a
// goroutine of its own; wait blocks until that goroutine has stopped.
// drain runs on it, one call at a time, so it must not block. It returns
// EUNAVAILABLE if the subscription cannot be made.
func (n *Node) WatchDrainRequests(ctx context.Context, drain func()) (wait func(), err error) {
	ps, err := n.edge.Subscribe(ctx, "subscribe to this node's channel", n.nodeChannel(n.opts.ID))
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redisconn.Listen(ctx, ps, receiveEvery, func(msg any, err error) {
			if err != nil {
				n.log.Debug("node channel subscription interrupted", "error", err)
			}
			m, ok := msg.(*redis.Message)
			if !ok {
				return
			}
			var got drainRequest
			if json.Unmarshal([]byte(m.Payload), &got) == nil && got.Kind == drainKind {
				n.log.Info("drain requested")
				drain()
			}
		})
	}()
	return func() { <-done }, nil
}

// Peers picks where a draining node sends its devices: the advertised
// MQTT address of the live, non-draining node with the fewest devices.
// The node list is read again at most every refresh; in between, the
// devices this node has referred to each peer count as theirs, so that
// the referrals spread rather than all going to the peer that was least
// loaded at the last read. It is safe for concurrent use.
type Peers struct {
	reg     *Registry
	self    string
	refresh time.Duration

	mu      sync.Mutex
	read    time.Time
	nodes   []recipes.Node
	sent    map[string]int // referrals since read, by node ID
	lastErr error
}

// Peers returns the picker of the peers of node self; refresh is how long
// a node list is used (default 1 s).
func (r *Registry) Peers(self string, refresh time.Duration) *Peers {
	if refresh <= 0 {
		refresh = time.Second
	}
	return &Peers{reg: r, self: self, refresh: refresh}
}

// Pick returns the advertised MQTT address of the least-loaded live peer
// that does not drain, and counts one device referred to it; "" if there
// is none. An error reading the registry is returned with the last list
// read still used, or "" if there is none.
func (p *Peers) Pick(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	if now := p.reg.now(); p.nodes == nil || now.Sub(p.read) >= p.refresh {
		var nodes []recipes.Node
		nodes, err = p.reg.Nodes(ctx)
		if nodes != nil || err == nil {
			p.nodes, p.read, p.sent = nodes, now, map[string]int{}
		}
	}
	best := -1
	for i, n := range p.nodes {
		if n.ID == p.self || !n.Alive || n.Draining || n.Addr == "" {
			continue
		}
		if best < 0 || n.Devices+p.sent[n.ID] < p.nodes[best].Devices+p.sent[p.nodes[best].ID] {
			best = i
		}
	}
	if best < 0 {
		return "", err
	}
	p.sent[p.nodes[best].ID]++
	return p.nodes[best].Addr, err
}
