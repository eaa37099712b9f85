package admin_test

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
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

// drain is this node's drain as recipesd wires it: the registry asks
// nodes to drain over a bus, and a flag says whether this one does.
type drain struct {
	*cluster.Registry
	bus      *cluster.Bus
	draining atomic.Bool
}

func (d *drain) RequestDrain(ctx context.Context, id string) error {
	_, err := d.Registry.RequestDrain(ctx, d.bus, id)
	return err
}

func (d *drain) Draining() bool { return d.draining.Load() }

// TestAdminNodeDrain: staff ask a node to drain with the button on
// /nodes (a CSRF-checked form), the node receives the request, unknown
// and dead nodes are refused with a reason; /readyz answers 503 while
// this node drains.
func TestAdminNodeDrain(t *testing.T) {
	env := redistest.New(t)
	ctx := context.Background()
	newBus := func(id string) *cluster.Bus {
		b := cluster.NewBus(env.RDB, cluster.BusOptions{Node: id, KeyPrefix: env.Prefix})
		t.Cleanup(func() { _ = b.Close() })
		return b
	}
	requests := make(chan struct{}, 1)
	start := func(id string, heartbeatAt time.Time) *cluster.Node {
		bus := newBus(id)
		n, err := cluster.New(env.RDB, cluster.Options{ID: id, Addr: id + ".example:1883", KeyPrefix: env.Prefix,
			Heartbeat: time.Hour, DeadAfter: 3 * time.Hour, Now: func() time.Time { return heartbeatAt }, Bus: bus})
		if err != nil {
			t.Fatal(err)
		}
		n.HandleDrainRequests(func() { requests <- struct{}{} })
		if err := bus.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Close(ctx) })
		return n
	}
	start("node-a", time.Now())
	start("node-b", time.Now().Add(-4*time.Hour))
	asker := newBus("admin-test")
	if err := asker.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d := &drain{Registry: cluster.NewRegistry(env.RDB, env.Prefix, 0, nil), bus: asker}
	s := MustStartServer(t, func(o *admin.Options) { o.Nodes, o.Drain = d.Registry, d })

	s.NewWebClient(t).Post("/nodes/node-a/drain", nil).Want(303) // staff only: to the sign-in page
	w := s.MustSignIn(t)
	w.Get("/nodes").Want(200).Has(t, "node-a node-a.example:1883 dev 0 ", "Alive Drain node-b")
	w.PostRaw("/nodes/node-a/drain", url.Values{}, nil).Want(403) // no CSRF token
	select {
	case <-requests:
		t.Fatal("drain requested without a CSRF token")
	default:
	}
	w.Post("/nodes/node-a/drain", nil).Want(303)
	select {
	case <-requests:
	case <-time.After(5 * time.Second):
		t.Fatal("node-a got no drain request")
	}
	if got := w.Get("/nodes").Want(200).Flash(); got != "node-a is asked to drain: it takes no new devices, sends its devices to the other nodes, then stops." {
		t.Errorf("flash %q", got)
	}
	w.Post("/nodes/node-b/drain", nil).Want(303)
	if got := w.Get("/nodes").Want(200).Flash(); !strings.HasPrefix(got, `Node "node-b" is dead`) {
		t.Errorf("dead node: flash %q", got)
	}
	w.Post("/nodes/node-x/drain", nil).Want(404)

	s.NewWebClient(t).Get("/readyz").Want(200)
	d.draining.Store(true)
	s.NewWebClient(t).Get("/readyz").Want(503).Has(t, `{"status":"draining"}`)
}
