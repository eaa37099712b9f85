package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// Drain requests. A node is asked to drain by an ask of kind "drain" on
// the node bus, which it answers with a [DrainReceipt] before it starts
// draining: the asker knows the node got the request. A node that is not
// subscribed (it is restarting, or Redis is) gets nothing, and the asker
// is told so ([ErrNotListening]) or times out.

// kindDrain is the bus kind of a drain request.
const kindDrain = "drain"

// drainAnswerWithin bounds the wait for a node's receipt: the node
// answers without any I/O of its own, so only two publishes are waited on.
const drainAnswerWithin = 5 * time.Second

// DrainReceipt is a node's confirmation that it received a drain request.
type DrainReceipt struct {
	Node string `json:"node"`
	// Already: the node had been asked before (or drains already); the
	// request changes nothing.
	Already bool `json:"already"`
}

// checkDrainable returns nil if node id is registered and alive: ENOTFOUND
// if no node id is registered, ECONFLICT if it is dead (nobody would
// receive the request), EUNAVAILABLE if Redis cannot be reached.
func (r *Registry) checkDrainable(ctx context.Context, id string) error {
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
	return nil
}

// RequestDrain asks node id over bus to drain (it marks itself draining,
// sends its devices to other nodes and exits) and returns its receipt. It
// returns ENOTFOUND if no node id is registered, ECONFLICT if it is dead,
// or if it is alive in the registry but does not listen
// ([ErrNotListening] in the chain) or does not answer in time
// (context.DeadlineExceeded in the chain), and EUNAVAILABLE if Redis
// cannot be reached. Asking a node that drains already is not an error.
func (r *Registry) RequestDrain(ctx context.Context, bus *Bus, id string) (DrainReceipt, error) {
	if err := r.checkDrainable(ctx, id); err != nil {
		return DrainReceipt{}, err
	}
	actx, cancel := context.WithTimeout(ctx, drainAnswerWithin)
	defer cancel()
	raw, err := bus.Ask(actx, id, kindDrain, nil)
	switch {
	case errors.Is(err, ErrNotListening):
		return DrainReceipt{}, fmt.Errorf("%w: %w", err, recipes.Errorf(recipes.ECONFLICT,
			"Node %q is registered alive but does not listen for requests (it is starting, stopping or cut off from Redis); nobody received the request. Try again in a moment.", id))
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return DrainReceipt{}, fmt.Errorf("cluster: request drain of %s: %w: %w", id, err, recipes.Errorf(recipes.ECONFLICT,
			"Node %q did not confirm the drain request within %s (it may be overloaded or cut off from Redis); it may still drain: see recipesd nodes.", id, drainAnswerWithin))
	case err != nil:
		return DrainReceipt{}, fmt.Errorf("cluster: request drain of %s: %w", id, err)
	}
	var rc DrainReceipt
	if err := json.Unmarshal(raw, &rc); err != nil {
		return DrainReceipt{}, fmt.Errorf("cluster: request drain of %s: its receipt %s: %w", id, clip(string(raw)), err)
	}
	return rc, nil
}

// RequestDrain asks node id to drain: [Registry.RequestDrain] over this
// node's bus. On a node without a bus (alone on the embedded store) the
// only node to drain is this one, and it is drained directly.
func (n *Node) RequestDrain(ctx context.Context, id string) error {
	if n.opts.Bus != nil {
		_, err := n.Registry.RequestDrain(ctx, n.opts.Bus, id)
		return err
	}
	if err := n.checkDrainable(ctx, id); err != nil {
		return err
	}
	if id != n.opts.ID || n.drain == nil {
		return recipes.Errorf(recipes.ECONFLICT, "Node %q cannot be asked from node %q, which shares no bus with other nodes (it runs on the embedded store).", id, n.opts.ID)
	}
	n.receiveDrain(n.opts.ID)
	n.drain()
	return nil
}

// HandleDrainRequests makes drain run when this node is asked to drain,
// after its receipt is sent; drain must be safe to call more than once
// (every request calls it). Call it before the bus starts.
func (n *Node) HandleDrainRequests(drain func()) {
	n.drain = drain
	if n.opts.Bus == nil {
		return
	}
	n.opts.Bus.Handle(kindDrain, func(_ context.Context, from string, _ json.RawMessage) (any, error) {
		return afterAnswer{answer: n.receiveDrain(from), then: drain}, nil
	})
}

// receiveDrain notes a drain request from node from and returns the
// receipt.
func (n *Node) receiveDrain(from string) DrainReceipt {
	already := n.drainAsked.Swap(true) || n.Draining()
	n.log.Info("drain requested", "by", from, "already", already)
	return DrainReceipt{Node: n.opts.ID, Already: already}
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
