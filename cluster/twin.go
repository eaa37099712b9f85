package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// checkTwin refuses to start while another live process uses this node's
// ID: two processes writing one entry would each hide the other. A fresh
// entry may also be left by this node's predecessor, which crashed
// without removing it; the two are told apart by watching the entry for
// one and a half of its heartbeats, since only a live twin renews it.
func (n *Node) checkTwin(ctx context.Context) error {
	first, err := n.rawEntry(ctx)
	if err != nil || first == "" {
		return err
	}
	var e entry
	if json.Unmarshal([]byte(first), &e) != nil || e.Every <= 0 || n.opts.Now().Sub(e.Heartbeat) > e.DeadAfter {
		return nil // unreadable or dead: ours to replace
	}
	n.log.Info("this node's ID has a fresh entry: waiting to tell a crashed predecessor from a live twin", "wait", e.Every*3/2)
	t := time.NewTimer(e.Every * 3 / 2)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("cluster: check node ID %q: %w", n.opts.ID, ctx.Err())
	case <-t.C:
	}
	again, err := n.rawEntry(ctx)
	if err != nil || again == "" || again == first {
		return err
	}
	return fmt.Errorf("cluster: node ID %q is in use by a live node (MQTT address %s, started %s): give each node its own ID",
		n.opts.ID, e.Addr, e.StartedAt.Format(time.RFC3339))
}

// rawEntry returns this node's entry as stored, "" if there is none.
func (n *Node) rawEntry(ctx context.Context) (string, error) {
	rctx, cancel := n.edge.RT(ctx)
	defer cancel()
	raw, err := n.rdb.HGet(rctx, n.key, n.opts.ID).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return raw, n.edge.Err("read node entry", err)
}
