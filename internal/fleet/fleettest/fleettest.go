// Package fleettest starts the real server in-process, the way recipesd
// wires it (the embedded store, the demo catalog, the device registry,
// the responder), for the load generator's tests. It is for tests only:
// nothing but _test.go files imports it.
package fleettest

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/fleet"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// storeTimeout is long: the tests check the bench's accounting, and under
// the race detector on a busy machine the embedded store may take far
// longer than its default 300 ms for a connection, answering CONNECTs with
// 0x88 and requests with 503 (which a bench rightly counts, but the tests
// would have to tell from a fault of the bench's).
const storeTimeout = 5 * time.Second

// catalogWriter seeds the catalog only, as [seed.Load] needs.
type catalogWriter struct{ cat *catalog.Store }

func (w catalogWriter) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, _ recipes.DeviceImport, _ seed.SyncOptions) ([]recipes.Change, []recipes.DeviceChange, error) {
	changes, err := w.cat.Sync(ctx, cats, recs, catalog.SyncOptions{})
	return changes, nil, err
}

// Server is a running server and its registered devices.
type Server struct {
	Addr      string // of the MQTT listener
	Devices   []fleet.Device
	Responder *responder.Responder
}

// StartServer starts the real server the way recipesd wires it, on the
// embedded store with the demo catalog, and registers n devices.
func StartServer(t testing.TB, n int) *Server {
	t.Helper()
	ctx := context.Background()
	emb, err := embedded.Open(ctx, embedded.Options{Dir: t.TempDir(), Timeout: storeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emb.Close() })
	cat, err := catalog.Open(ctx, emb.Client(), catalog.Options{Timeout: storeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.Open(ctx, emb.Client(), identity.Options{Timeout: storeTimeout})
	if err != nil {
		t.Fatal(err)
	}
	demo, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Load(ctx, catalogWriter{cat}, demo); err != nil {
		t.Fatal(err)
	}
	var devs []fleet.Device
	for i := range n {
		id := fmt.Sprintf("bench-%04d", i)
		secret, err := ids.AddDevice(ctx, id, "CM-300")
		if err != nil {
			t.Fatal(err)
		}
		devs = append(devs, fleet.Device{ID: id, Secret: secret})
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := responder.New(cat, responder.Options{Listener: ln, Devices: ids, ThrottleExemptLoopback: true, StoreTimeout: storeTimeout})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return &Server{Addr: r.Addr(), Devices: devs, Responder: r}
}
