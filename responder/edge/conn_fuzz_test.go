package edge_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// FuzzConnection runs the whole server, through the responder's public
// API: the edge guard's promise is about what reaches mochi.

type staticCatalog struct{}

func (staticCatalog) FindCached(recipes.Query) (recipes.Document, error) {
	return recipes.Document{ETag: "0123456789abcdef", Data: []byte(`{"items":[]}`)}, nil
}

func (c staticCatalog) Find(_ context.Context, q recipes.Query) (recipes.Document, error) {
	return c.FindCached(q)
}

// mustStart runs a responder admitting anonymous devices on loopback.
func mustStart(tb testing.TB, opts responder.Options) *responder.Responder {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts.Listener = ln
	opts.AllowAnonymous = true
	r := responder.New(staticCatalog{}, opts)
	if err := r.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := r.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return r
}

// FuzzConnection feeds arbitrary bytes to the server's read path after a
// valid CONNECT, over TCP, and requires that no connection goroutine ever
// panics (the packet checks refuse what mochi cannot decode) and that
// another device keeps being answered.
//
//	go test -run '^$' -fuzz FuzzConnection -fuzztime 30s ./responder/edge/
func FuzzConnection(f *testing.F) {
	for _, seed := range [][]byte{
		{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'},
		mqtttest.Request("fuzz"),
		mqtttest.Frame(0x82, []byte{0, 1, 0}, mqtttest.Str("devices/fuzz/#"), []byte{1}),
		mqtttest.Frame(0xa2, []byte{0, 1, 0}, mqtttest.Str("devices/fuzz/#")),
		mqtttest.Frame(0x32, mqtttest.Str("recipes/soups"), []byte{0, 9}, []byte{7, 0x08}, mqtttest.Str("devices/fuzz")),
		{0x40, 0x02, 0x00, 0x01},
		{0xc0, 0x00},
		{0xe0, 0x00},
		mqtttest.Frame(0x62, []byte{0, 1}),
	} {
		f.Add(seed)
	}
	r := mustStart(f, responder.Options{FirstPacketTimeout: time.Second, RequestRate: 1e6, RequestBurst: 1e6})
	by := mqtttest.DialDevice(f, r.Addr(), "bystander", nil, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := mqtttest.Dial(t, r.Addr())
		c.Send(t, mqtttest.Connect("fuzz", "", "", nil))
		if h, _ := c.MustRead(t); h != 0x20 {
			t.Fatalf("want CONNACK, got %02x", h)
		}
		_, _ = c.Write(data)
		_ = c.Conn.(*net.TCPConn).CloseWrite()
		for {
			if _, _, err := c.ReadPacket(); err != nil {
				break
			}
		}
		if n := r.Stats().Recovered; n > 0 {
			t.Fatalf("a connection goroutine panicked on % x", data)
		}
		by.Answered(t, "bystander")
	})
}
