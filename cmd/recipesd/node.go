package main

import (
	"cmp"
	"context"
	"fmt"
	"runtime/debug"

	"github.com/recipesd/recipesd/cluster"
)

// startNode registers this process in the node registry, with the devices
// the responder holds, and keeps its heartbeat going until Close.
func (m *Main) startNode(ctx context.Context) error {
	c := m.Config
	n, err := cluster.New(m.RDB, cluster.Options{
		ID:        c.NodeID,
		Addr:      cmp.Or(c.AdvertiseMQTT, m.Responder.Addr()),
		Version:   moduleVersion(),
		Devices:   func() int { return m.Responder.Stats().Connected },
		KeyPrefix: c.KeyPrefix,
		Timeout:   c.StoreTimeout,
		Heartbeat: c.NodeHeartbeat,
		DeadAfter: c.NodeDeadAfter,
		Logger:    m.Logger,
	})
	if err != nil {
		return err
	}
	if err := n.Start(ctx); err != nil {
		return fmt.Errorf("register node %q: %w", c.NodeID, err)
	}
	m.Node = n
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
