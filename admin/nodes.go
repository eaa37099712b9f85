package admin

import (
	"context"
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

// nodeRow is a node as the page shows it.
type nodeRow struct {
	recipes.Node
	HeartbeatAge time.Duration // how long ago its last heartbeat was
}

type nodeIndexPage struct {
	page
	Nodes []nodeRow
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
	p := nodeIndexPage{page: s.page(c, "Nodes", "nodes")}
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
