package catalog_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// proxy forwards loopback TCP to a Redis and can make it vanish (refuse
// and drop connections) or stall (accept and read, answer nothing).
type proxy struct {
	tb       testing.TB
	upstream string
	addr     string
	stalled  atomic.Bool

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func startProxy(tb testing.TB, upstream string) *proxy {
	tb.Helper()
	p := &proxy{tb: tb, upstream: upstream}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	tb.Cleanup(p.down)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go p.pipe(u, c)
			go p.pipe(c, u)
		}
	}()
}

func (p *proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for p.stalled.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// down closes the listener and every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// up listens again on the same address.
func (p *proxy) up() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.tb.Fatalf("proxy up: %v", err)
	}
	p.serve(ln)
}

// assertUnavailable checks that an uncached Find fails with EUNAVAILABLE
// well within the 1 s the protocol allows.
func assertUnavailable(tb testing.TB, s *catalog.Store, q recipes.Query) {
	tb.Helper()
	start := time.Now()
	_, err := s.Find(context.Background(), q)
	elapsed := time.Since(start)
	assertCode(tb, err, recipes.EUNAVAILABLE, "catalog store unavailable")
	if elapsed >= time.Second {
		tb.Fatalf("Find took %v to fail; the bound is 1s", elapsed)
	}
	var rerr *recipes.Error
	multi, ok := err.(interface{ Unwrap() []error })
	if !errors.As(err, &rerr) || !ok || len(multi.Unwrap()) < 2 {
		tb.Fatalf("err %v: want a *recipes.Error with the cause still wrapped", err)
	}
	tb.Logf("failed after %v: %v", elapsed, err)
}

func proxied(tb testing.TB) (*testEnv, *proxy, *catalog.Store) {
	env := newEnv(tb)
	if !strings.HasPrefix(env.URL, "redis://") || strings.ContainsAny(env.URL, "@?") || strings.Count(env.URL, "/") > 3 {
		tb.Skip("proxy tests need a redis://host:port[/0] URL (one server, no Sentinel or Cluster)")
	}
	p := startProxy(tb, strings.TrimSuffix(strings.TrimPrefix(env.URL, "redis://"), "/0"))
	s := mustOpen(tb, "redis://"+p.addr+"/0", catalog.Options{KeyPrefix: env.Prefix})
	seedSoups(tb, s)
	return env, p, s
}

func TestUnavailable_Down(t *testing.T) {
	env, p, s := proxied(t)
	ctx := context.Background()
	warm := recipes.Query{Category: "soups", RecipeID: "tomato-soup"}
	mustFind(t, s, warm)

	p.down()
	assertUnavailable(t, s, recipes.Query{Category: "salads", Limit: 20})
	assertUnavailable(t, s, recipes.Query{Category: "salads", RecipeID: "greek-salad"})
	if _, err := s.FindCached(warm); err != nil {
		t.Errorf("cached recipe not served while Redis is down: %v", err)
	}
	assertCode(t, s.PutCategory(ctx, category("desserts", 0)), recipes.EUNAVAILABLE, "")
	assertCode(t, s.Ping(ctx), recipes.EUNAVAILABLE, "")

	// A write made while the store was cut off is never announced to it.
	other := env.Open(t)
	mustPutRecipe(t, other, recipe("tomato-soup", "soups", "Tomato Soup", withServings(9)))

	p.up()
	eventually(t, 5*time.Second, "store answers again", func() bool {
		doc, err := s.Find(ctx, warm)
		return err == nil && decode[recipes.Recipe](t, doc).Servings == 9
	})
	mustFind(t, s, recipes.Query{Category: "salads", Limit: 20})
	// And the change subscription works again.
	mustPutRecipe(t, other, recipe("tomato-soup", "soups", "Tomato Soup", withServings(3)))
	eventually(t, catalogTimeout, "change announced after recovery", func() bool {
		doc, err := s.FindCached(warm)
		return errors.Is(err, recipes.ErrUncached) || err == nil && decode[recipes.Recipe](t, doc).Servings == 3
	})
}

func TestUnavailable_Stall(t *testing.T) {
	_, p, s := proxied(t)
	ctx := context.Background()
	p.stalled.Store(true)
	assertUnavailable(t, s, recipes.Query{Category: "soups", Limit: 20})
	assertUnavailable(t, s, recipes.Query{})
	// The caller's own deadline is honoured too.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Find(short, recipes.Query{Category: "salads", Limit: 20})
	assertCode(t, err, recipes.EUNAVAILABLE, "")
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("Find with a 50ms deadline took %v", d)
	}
	p.stalled.Store(false)
	eventually(t, 5*time.Second, "store answers again", func() bool {
		_, err := s.Find(ctx, recipes.Query{Category: "soups", Limit: 20})
		return err == nil
	})
}

func TestUnavailable_MiniredisRestart(t *testing.T) {
	env := newEnv(t)
	if env.MR == nil {
		t.Skip("needs miniredis (covered for a real Redis by the proxy tests)")
	}
	s := env.Open(t)
	seedSoups(t, s)
	env.MR.Close()
	assertUnavailable(t, s, recipes.Query{Category: "soups", Limit: 20})
	if err := env.MR.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "store answers again", func() bool {
		_, err := s.Find(context.Background(), recipes.Query{Category: "soups", Limit: 20})
		return err == nil
	})
}

// TestUnavailable_Closed: a store used after shutdown, which closes the
// catalog and then its client, answers EUNAVAILABLE.
func TestUnavailable_Closed(t *testing.T) {
	env := newEnv(t)
	if strings.Contains(env.URL, "+cluster://") {
		// Seen with go-redis v9.23: its closed ClusterClient still runs a
		// WATCH, on a node client it makes anew.
		t.Skip("a closed go-redis ClusterClient still writes; nothing to test")
	}
	rdb, err := redisconn.New(env.URL, 0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := catalog.Open(context.Background(), rdb, catalog.Options{KeyPrefix: env.Prefix})
	if err != nil {
		t.Fatal(err)
	}
	seedSoups(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Close(); err != nil {
		t.Fatal(err)
	}
	assertUnavailable(t, s, recipes.Query{Category: "soups", Limit: 20})
	assertCode(t, s.PutCategory(context.Background(), category("x", 0)), recipes.EUNAVAILABLE, "")
}

func TestOpen_BadOptions(t *testing.T) {
	env := newEnv(t)
	for name, tt := range map[string]struct {
		url  string
		opts catalog.Options
	}{
		"BraceInPrefix": {env.URL, catalog.Options{KeyPrefix: "a}b"}},
		"NoRedis":       {"redis://127.0.0.1:1/0", catalog.Options{}},
	} {
		t.Run(name, func(t *testing.T) {
			rdb, err := redisconn.New(tt.url, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			start := time.Now()
			if s, err := catalog.Open(context.Background(), rdb, tt.opts); err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("Open took %v to fail", d)
			}
		})
	}
}
