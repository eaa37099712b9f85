package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Takeover notices: a device's new session tells the node of its previous
// session to end it. They travel on the receiving node's pub/sub channel
// {prefix}:node:<id>, whose messages are JSON objects with a "kind"; this
// file sends and receives kind "takeover" and ignores the others, which
// other subscribers of the same channel handle.
//
// A notice may be lost (the subscription was interrupted): the node then
// checks its sessions against the stored epochs once it is subscribed
// again (see WatchTakeovers). A notice that arrives before the session it
// ends is established is remembered by the receiver (the responder's
// newest epoch per device), so no ordering is assumed.

// kindTakeover is the kind of a takeover notice.
const kindTakeover = "takeover"

// takeoverNotice tells a node that device's session with an epoch below
// Epoch is superseded.
type takeoverNotice struct {
	Kind   string `json:"kind"`
	Device string `json:"device"`
	Epoch  uint64 `json:"epoch"`
}

// takeoverChannel is node id's channel.
func (r *Registry) takeoverChannel(id string) string {
	return "{" + r.prefix + "}:node:" + id
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
	if prev.Node != "" && prev.Node != n.opts.ID {
		go func() {
			if err := n.sendTakeover(context.WithoutCancel(ctx), prev.Node, id, now.Epoch); err != nil {
				// Its session ends anyway when that node next checks
				// its sessions against the epochs; until then the
				// device has two sessions.
				n.log.Warn("cannot tell the previous node to end the device's older session", "device", id, "previous_node", prev.Node, "err", err)
			}
		}()
	}
	return now.Epoch, nil
}

// sendTakeover tells node that device's sessions older than epoch are
// superseded.
func (n *Node) sendTakeover(ctx context.Context, node, device string, epoch uint64) error {
	raw, err := json.Marshal(takeoverNotice{Kind: kindTakeover, Device: device, Epoch: epoch})
	if err != nil {
		return fmt.Errorf("cluster: encode takeover notice: %w", err)
	}
	rctx, cancel := n.edge.RT(ctx)
	defer cancel()
	return n.edge.Err("send takeover notice to node "+node, n.rdb.Publish(rctx, n.takeoverChannel(node), raw).Err())
}

// WatchTakeovers subscribes to this node's channel and calls takeover for
// every takeover notice, on one goroutine, until stop is called. Each time
// the subscription is made, the first time included, it calls subscribed
// on a goroutine of its own: notices sent while it was interrupted are
// lost, and subscribed is where the caller checks its sessions against
// [Registry.Epochs]. It returns once the first subscription is made.
func (n *Node) WatchTakeovers(ctx context.Context, takeover func(device string, epoch uint64), subscribed func()) (stop func(), err error) {
	ps := n.rdb.Subscribe(ctx, n.takeoverChannel(n.opts.ID))
	rctx, cancel := n.edge.RT(ctx)
	_, err = ps.Receive(rctx) // the subscription's confirmation
	cancel()
	if err != nil {
		_ = ps.Close()
		return nil, n.edge.Err("subscribe to this node's channel", err)
	}
	go subscribed()
	ch := ps.ChannelWithSubscriptions()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range ch {
			switch m := m.(type) {
			case *redis.Subscription:
				if m.Kind == "subscribe" {
					n.log.Info("subscribed to this node's channel again; checking sessions for takeovers it may have missed")
					go subscribed()
				}
			case *redis.Message:
				var t takeoverNotice
				if err := json.Unmarshal([]byte(m.Payload), &t); err != nil {
					n.log.Warn("message on this node's channel is not a JSON object; ignored", "channel", m.Channel, "err", err)
					continue
				}
				if t.Kind != kindTakeover {
					continue // another subscriber's
				}
				if t.Device == "" || t.Epoch == 0 {
					n.log.Warn("takeover notice without device or epoch; ignored", "payload", clip(m.Payload))
					continue
				}
				takeover(t.Device, t.Epoch)
			}
		}
	}()
	return func() { _ = ps.Close(); <-done }, nil
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
