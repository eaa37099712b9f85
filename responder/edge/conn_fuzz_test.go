package edge_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"
	"time"

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

func enc(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func lstr(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

func frame(h byte, body ...[]byte) []byte {
	b := enc(body...)
	var l []byte
	for n := len(b); ; {
		c := byte(n % 128)
		if n /= 128; n > 0 {
			c |= 0x80
		}
		l = append(l, c)
		if n == 0 {
			break
		}
	}
	return enc([]byte{h}, l, b)
}

// anonConnect is an MQTT 5 CONNECT without credentials.
func anonConnect(id string) []byte {
	return frame(0x10, lstr("MQTT"), []byte{5, 0x02, 0, 30, 0}, lstr(id))
}

// requestPacket is a QoS 0 request answered on devices/<id>/r.
func requestPacket(id string) []byte {
	props := enc([]byte{0x08}, lstr("devices/"+id+"/r"))
	return frame(0x30, lstr("recipes/categories"), []byte{byte(len(props))}, props)
}

type rawConn struct {
	net.Conn
	br *bufio.Reader
}

// dialDevice connects id anonymously and subscribes it to its replies.
func dialDevice(tb testing.TB, addr, id string) *rawConn {
	tb.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = nc.Close() })
	c := &rawConn{Conn: nc, br: bufio.NewReader(nc)}
	c.write(tb, anonConnect(id))
	if h, body := c.mustRead(tb); h != 0x20 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x", h, body)
	}
	c.write(tb, frame(0x82, []byte{0, 1, 0}, lstr("devices/"+id+"/#"), []byte{0}))
	if h, _ := c.mustRead(tb); h != 0x90 {
		tb.Fatalf("want SUBACK, got %02x", h)
	}
	return c
}

func (c *rawConn) write(tb testing.TB, b []byte) {
	tb.Helper()
	if _, err := c.Write(b); err != nil {
		tb.Fatal(err)
	}
}

func (c *rawConn) read() (byte, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := c.br.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for {
		b, err := c.br.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		mult *= 128
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.br, body)
	return h, body, err
}

func (c *rawConn) mustRead(tb testing.TB) (byte, []byte) {
	tb.Helper()
	h, body, err := c.read()
	if err != nil {
		tb.Fatal(err)
	}
	return h, body
}

// answered sends a request and waits for its reply.
func (c *rawConn) answered(tb testing.TB, id string) {
	tb.Helper()
	c.write(tb, requestPacket(id))
	if h, _ := c.mustRead(tb); h>>4 != 3 {
		tb.Fatalf("want the reply PUBLISH, got %02x", h)
	}
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
		requestPacket("fuzz"),
		frame(0x82, []byte{0, 1, 0}, lstr("devices/fuzz/#"), []byte{1}),
		frame(0xa2, []byte{0, 1, 0}, lstr("devices/fuzz/#")),
		frame(0x32, lstr("recipes/soups"), []byte{0, 9}, []byte{7, 0x08}, lstr("devices/fuzz")),
		{0x40, 0x02, 0x00, 0x01},
		{0xc0, 0x00},
		{0xe0, 0x00},
		frame(0x62, []byte{0, 1}),
	} {
		f.Add(seed)
	}
	r := mustStart(f, responder.Options{FirstPacketTimeout: time.Second, RequestRate: 1e6, RequestBurst: 1e6})
	by := dialDevice(f, r.Addr(), "bystander")
	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.Dial("tcp", r.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		c := &rawConn{Conn: nc, br: bufio.NewReader(nc)}
		c.write(t, anonConnect("fuzz"))
		if h, _ := c.mustRead(t); h != 0x20 {
			t.Fatalf("want CONNACK, got %02x", h)
		}
		_, _ = nc.Write(data)
		_ = nc.(*net.TCPConn).CloseWrite()
		for {
			if _, _, err := c.read(); err != nil {
				break
			}
		}
		if n := r.Stats().Recovered; n > 0 {
			t.Fatalf("a connection goroutine panicked on % x", data)
		}
		by.answered(t, "bystander")
	})
}
