package admin

import (
	"context"
	"time"
)

// Presence tells which devices are connected, to which node and since
// when, across every node sharing the store: the device pages, the device
// API and the dashboard show the same truth on every node.
type Presence interface {
	// Connections returns the connection of each device among ids that
	// is connected now, to any node; the others are missing.
	Connections(ctx context.Context, ids []string) (map[string]Connection, error)
	// ConnectedDevices returns the IDs of the devices connected now, to
	// any node, sorted.
	ConnectedDevices(ctx context.Context) ([]string, error)
}

// Connection is where a device is connected: its node and since when.
type Connection struct {
	Node  string
	Since time.Time
}

// connections returns the connections of the devices ids; none when this
// server knows of no appliances.
func (s *Server) connections(ctx context.Context, ids []string) (map[string]Connection, error) {
	if s.opts.Presence == nil || len(ids) == 0 {
		return map[string]Connection{}, nil
	}
	return s.opts.Presence.Connections(ctx, ids)
}

// connectedDevices returns the IDs of the devices connected now.
func (s *Server) connectedDevices(ctx context.Context) ([]string, error) {
	if s.opts.Presence == nil {
		return nil, nil
	}
	return s.opts.Presence.ConnectedDevices(ctx)
}

// withConnection is d with its connection, if it has one.
func withConnection(d deviceRow, c Connection, ok bool) deviceRow {
	d.Connected, d.Node, d.ConnectedSince = ok, "", nil
	if ok {
		since := c.Since.UTC()
		d.Node, d.ConnectedSince = c.Node, &since
	}
	return d
}
