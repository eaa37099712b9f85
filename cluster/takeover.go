package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Takeover notices: a device's new session tells the node of its previous
// session to end it, with a notice of kind "takeover" on the node bus
// (one-way: nobody answers).
//
// A notice may be lost (the bus's subscription was interrupted): the node
// then checks its sessions against the stored epochs once the bus is
// subscribed again (see HandleTakeovers). A notice that arrives before
// the session it ends is established is remembered by the receiver (the
// responder's newest epoch per device), so no ordering is assumed.

// kindTakeover is the bus kind of a takeover notice.
const kindTakeover = "takeover"

// takeoverNotice tells a node that device's session with an epoch below
// Epoch is superseded.
type takeoverNotice struct {
	Device string `json:"device"`
	Epoch  uint64 `json:"epoch"`
}

// ClaimSession claims device id for a session starting on this node (see
// [Node.Claim]) and returns its epoch. If another node held the device, it
// is told in the background, within the store timeout, to end its older
// session: the caller's connection does not wait for that.
func (n *Node) ClaimSession(ctx context.Context, id string) (uint64, error) {
	now, prev, err := n.Claim(ctx, id)
	if err != nil {
		return 0, err
	}
	if prev.Node != "" && prev.Node != n.opts.ID && n.opts.Bus != nil {
		go func() {
			err := n.opts.Bus.Notify(context.WithoutCancel(ctx), prev.Node, kindTakeover, takeoverNotice{Device: id, Epoch: now.Epoch})
			switch {
			case errors.Is(err, ErrNotListening):
				// That node is gone, or is subscribing again and then
				// checks its sessions against the epochs.
				n.log.Debug("the previous node of a device taken over does not listen", "device", id, "previous_node", prev.Node)
			case err != nil:
				// Its session ends anyway when that node next checks
				// its sessions against the epochs; until then the
				// device has two sessions.
				n.log.Warn("cannot tell the previous node to end the device's older session", "device", id, "previous_node", prev.Node, "err", err)
			}
		}()
	}
	return now.Epoch, nil
}

// HandleTakeovers makes takeover run for every takeover notice this node
// receives, on the bus's listening goroutine (it must not block), and
// subscribed run, on a goroutine of its own, each time the bus has
// subscribed to this node's channel, the first time included: notices
// sent while it was interrupted are lost, and subscribed is where the
// caller checks its sessions against [Registry.Epochs]. Call it before
// the bus starts; without a bus it does nothing.
func (n *Node) HandleTakeovers(takeover func(device string, epoch uint64), subscribed func()) {
	b := n.opts.Bus
	if b == nil {
		return
	}
	b.HandleNotice(kindTakeover, func(from string, payload json.RawMessage) {
		var t takeoverNotice
		if err := json.Unmarshal(payload, &t); err != nil || t.Device == "" || t.Epoch == 0 {
			n.log.Warn("takeover notice without device or epoch; ignored", "from", from, "payload", clip(string(payload)), "err", err)
			return
		}
		takeover(t.Device, t.Epoch)
	})
	b.OnSubscribed(func() {
		n.log.Info("subscribed to this node's channel; checking sessions for takeovers it may have missed")
		subscribed()
	})
}

// clip shortens s for a log line.
func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Epochs returns the current epoch of each device among ids that ever had
// a session: whatever its holder, alive or not, since a session whose
// epoch is older is superseded either way.
func (r *Registry) Epochs(ctx context.Context, ids []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rctx, cancel := r.edge.RT(ctx)
	defer cancel()
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := r.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(rctx, r.presenceKey(id), "epoch")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, r.edge.Err("read device epochs", err)
	}
	for i, c := range cmds {
		if e, err := strconv.ParseUint(c.Val(), 10, 64); err == nil {
			out[ids[i]] = e
		}
	}
	return out, nil
}
