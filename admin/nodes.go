package admin

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// Nodes lists the recipesd nodes sharing the store: the cluster's node
// registry.
type Nodes interface {
	// Nodes returns the registered nodes by ID, dead ones marked so.
	Nodes(ctx context.Context) ([]recipes.Node, error)
}

// Drain is this node's drain, and the way to ask any node to drain.
type Drain interface {
	// Draining reports whether this node drains.
	Draining() bool
	// RequestDrain asks node id to send its devices to the others and
	// exit. It returns ENOTFOUND if no such node is registered and
	// ECONFLICT if it is dead.
	RequestDrain(ctx context.Context, id string) error
}

// nodeRow is a node as the page shows it.
type nodeRow struct {
	recipes.Node
	HeartbeatAge time.Duration // how long ago its last heartbeat was
}

type nodeIndexPage struct {
	page
	Nodes    []nodeRow
	CanDrain bool // the drain button is offered
}

// listNodes returns the nodes; none when the server has no registry.
func (s *Server) listNodes(ctx context.Context) ([]recipes.Node, error) {
	if s.opts.Nodes == nil {
		return []recipes.Node{}, nil
	}
	return s.opts.Nodes.Nodes(ctx)
}

func (s *Server) handleNodeIndex(c echo.Context) error {
	nodes, err := s.listNodes(c.Request().Context())
	if err != nil {
		return err
	}
	p := nodeIndexPage{page: s.page(c, "Nodes", "nodes"), CanDrain: s.opts.Drain != nil}
	now := time.Now()
	for _, n := range nodes {
		p.Nodes = append(p.Nodes, nodeRow{Node: n, HeartbeatAge: now.Sub(n.LastHeartbeat).Round(time.Second)})
	}
	return c.Render(http.StatusOK, "nodes.html", p)
}

// apiNodeIndex lists the nodes. It needs the metrics scope: the node list
// is operational state, read by the same monitoring that scrapes
// /metrics, and such a program must not need the devices scope, which
// may change the device registry.
func (s *Server) apiNodeIndex(c echo.Context) error {
	nodes, err := s.listNodes(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct {
		Items []recipes.Node `json:"items"`
	}{nodes})
}

// handleNodeDrain asks a node to drain, and says so on the node list,
// where the node shows draining from then on, then gone.
func (s *Server) handleNodeDrain(c echo.Context) error {
	if s.opts.Drain == nil {
		return echo.ErrNotFound
	}
	id := param(c, "id")
	if err := s.opts.Drain.RequestDrain(c.Request().Context(), id); err != nil {
		return s.flashError(c, err, "/nodes")
	}
	s.log.Info("node drain requested", "node", id, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("%s is asked to drain: it takes no new devices, sends its devices to the other nodes, then stops.", id))
	return c.Redirect(http.StatusSeeOther, "/nodes")
}
