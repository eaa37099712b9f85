package main

import (
	"context"
	"slices"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/responder"
)

var (
	_ responder.Presence = (*cluster.Node)(nil)
	_ admin.Presence     = presence{}
)

// clusterMode reports whether this node shares its store with others: an
// external Redis may have other nodes on it, the embedded store never has.
// Only then do sessions claim their devices in Redis (one session per
// device, cluster-wide) and presence come from Redis.
func (m *Main) clusterMode() bool {
	return m.Config.RedisURL != "" && !m.Config.alone
}

// responderPresence is the responder's [responder.Presence]: this node in
// cluster mode, none otherwise.
func (m *Main) responderPresence() responder.Presence {
	if !m.clusterMode() {
		return nil
	}
	return m.Node
}

// watchTakeovers ends this node's session of a device as soon as a newer
// one starts on another node (a takeover notice on the node bus), and
// checks the sessions against Redis each time the bus subscribes to this
// node's channel (notices sent while it was interrupted are lost). Call
// it before the bus starts.
func (m *Main) watchTakeovers() {
	if !m.clusterMode() {
		return
	}
	log := m.Logger.With("component", "presence")
	check := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*m.Config.StoreTimeout)
		defer cancel()
		if n, err := m.Responder.CheckSessions(ctx); err != nil {
			log.Warn("cannot check this node's sessions against the store; a device taken over on another node meanwhile may keep a second session here until it reconnects", "err", err)
		} else if n > 0 {
			log.Info("ended sessions taken over on other nodes while this node missed the notices", "sessions", n)
		}
	}
	m.Node.HandleTakeovers(m.Responder.TakenOver, check)
}

// presence is admin's [admin.Presence]: the cluster's presence in Redis
// in cluster mode, else this node's own sessions.
type presence struct{ m *Main }

func (p presence) Connections(ctx context.Context, ids []string) (map[string]admin.Connection, error) {
	out := make(map[string]admin.Connection, len(ids))
	if !p.m.clusterMode() {
		for id, since := range p.m.Responder.ConnectedSince(ids...) {
			out[id] = admin.Connection{Node: p.m.Config.NodeID, Since: since}
		}
		return out, nil
	}
	held, err := p.m.Node.Lookup(ctx, ids...)
	if err != nil {
		return nil, err
	}
	for id, h := range held {
		out[id] = admin.Connection{Node: h.Node, Since: h.Since}
	}
	return out, nil
}

// ConnectedDevices lists this node's sessions and, in cluster mode, the
// registered devices connected to any node. (An anonymous device, which
// is not registered, is listed only by the node it is connected to.)
func (p presence) ConnectedDevices(ctx context.Context) ([]string, error) {
	ids := p.m.Responder.ConnectedDevices()
	if !p.m.clusterMode() {
		return ids, nil
	}
	all, err := p.m.Identity.DeviceIDs(ctx)
	if err != nil {
		return nil, err
	}
	held, err := p.m.Node.Lookup(ctx, all...)
	if err != nil {
		return nil, err
	}
	here := make(map[string]bool, len(ids))
	for _, id := range ids {
		here[id] = true
	}
	for id := range held {
		if !here[id] {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
