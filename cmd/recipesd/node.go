package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"

	"github.com/recipesd/recipesd/cluster"
)

// newNode makes this process's node, not yet registered: the responder
// claims devices through it from its first connection on. With an
// external Redis it also makes the node's bus, not yet listening: the one
// subscriber and sender of this node's channel, for routed commands,
// takeover notices and drain requests alike.
func (m *Main) newNode() error {
	c := m.Config
	if c.RedisURL != "" {
		m.Bus = cluster.NewBus(m.RDB, cluster.BusOptions{Node: c.NodeID, KeyPrefix: c.KeyPrefix, Timeout: c.StoreTimeout, Logger: m.Logger})
	}
	addr := c.MQTTAddr // the responder is not listening yet
	if m.MQTTListener != nil {
		addr = m.MQTTListener.Addr().String()
	}
	n, err := cluster.New(m.RDB, cluster.Options{
		ID:        c.NodeID,
		Version:   moduleVersion(),
		Addr:      cmp.Or(c.AdvertiseMQTT, addr),
		Devices:   func() int { return m.Responder.Stats().Connected },
		KeyPrefix: c.KeyPrefix,
		Timeout:   c.StoreTimeout,
		Heartbeat: c.NodeHeartbeat,
		DeadAfter: c.NodeDeadAfter,
		Logger:    m.Logger,
		Bus:       m.Bus,
	})
	if err != nil {
		return err
	}
	m.Node = n
	return nil
}

// startBus makes the node bus listen, once every part of the node has
// registered its handlers on it; without a bus (the embedded store) it
// does nothing.
func (m *Main) startBus(ctx context.Context) error {
	if m.Bus == nil {
		return nil
	}
	if err := m.Bus.Start(ctx); err != nil {
		m.Bus = nil // nothing to close
		return fmt.Errorf("listen for other nodes' messages: %w", err)
	}
	return nil
}

// startNode registers this process in the node registry, with the devices
// the responder holds, and keeps its heartbeat going until Close.
func (m *Main) startNode(ctx context.Context) error {
	if err := m.Node.Start(ctx); err != nil {
		return fmt.Errorf("register node %q: %w", m.Config.NodeID, err)
	}
	return nil
}

// moduleVersion is the version of recipesd this binary was built from, or
// "dev" for a build from a work tree.
func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
