package admin_test

import (
	"context"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// TestAdminNodes: staff see every node of the registry on /nodes, and a
// program with the metrics scope gets them from GET /api/nodes.
func TestAdminNodes(t *testing.T) {
	env := redistest.New(t)
	start := func(id string, devices int, heartbeatAt time.Time) {
		n, err := cluster.New(env.RDB, cluster.Options{ID: id, Addr: id + ".example:1883", Version: "v9.9.9",
			Devices: func() int { return devices }, KeyPrefix: env.Prefix, Heartbeat: time.Hour, DeadAfter: 3 * time.Hour,
			Now: func() time.Time { return heartbeatAt }})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close(context.Background()) })
	}
	start("node-a", 3, time.Now())
	start("node-b", 1, time.Now().Add(-4*time.Hour)) // it stopped heartbeating 4h ago
	s := MustStartServer(t, func(o *admin.Options) { o.Nodes = cluster.NewRegistry(env.RDB, env.Prefix, 0, nil) })

	s.NewWebClient(t).Get("/nodes").Want(303) // staff only
	w := s.MustSignIn(t)
	w.Get("/nodes").Want(200).Has(t, "Nodes",
		// The ages tick on while the test runs.
		"node-a node-a.example:1883 v9.9.9 3 ", "s ago Alive node-b node-b.example:1883 v9.9.9 1 4h0m", "s ago Dead")
	w.Get("/devices").Want(200).Has(t, "Devices Dashboard Nodes") // in the navigation

	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "monitor", recipes.ScopeMetrics)}
	got := webtest.DecodeJSON[struct{ Items []recipes.Node }](t, api.Call("GET", "/api/nodes", nil).Want(200))
	if len(got.Items) != 2 || got.Items[0].ID != "node-a" || !got.Items[0].Alive || got.Items[0].Devices != 3 ||
		got.Items[1].ID != "node-b" || got.Items[1].Alive || got.Items[1].Addr != "node-b.example:1883" {
		t.Fatalf("GET /api/nodes: %+v", got.Items)
	}
	other := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "devices", recipes.ScopeDevices)}
	other.Call("GET", "/api/nodes", nil).Want(403)
}
