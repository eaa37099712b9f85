package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

type fakeCatalog struct{}

var _ responder.Catalog = fakeCatalog{}

func (fakeCatalog) FindCached(q recipes.Query) (recipes.Document, error) {
	if q.Category == "" {
		return recipes.Document{ETag: "e1", Data: json.RawMessage(`[{"slug":"soups"}]`)}, nil
	}
	return recipes.Document{}, recipes.Errorf(recipes.ENOTFOUND, "category %q not found", q.Category)
}

func (f fakeCatalog) Find(_ context.Context, q recipes.Query) (recipes.Document, error) {
	return f.FindCached(q)
}

// mustResponder starts a responder admitting anonymous devices.
func mustResponder(t *testing.T) *responder.Responder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := responder.New(fakeCatalog{}, responder.Options{Listener: ln, AllowAnonymous: true})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

func noEnv(string) string { return "" }

func TestAsk(t *testing.T) {
	r := mustResponder(t)
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-addr", r.Addr(), "-id", "sim-1", "categories"}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"soups"`) {
		t.Fatalf("output %s", out.String())
	}
	if code := run(context.Background(), []string{"-addr", r.Addr(), "-id", "sim-1", "list", "cakes"}, noEnv, &out, &errOut); code != 1 {
		t.Fatalf("unknown category: exit %d", code)
	}
	if code := run(context.Background(), []string{"-addr", r.Addr(), "bogus"}, noEnv, &out, &errOut); code != 2 {
		t.Fatalf("bad usage: exit %d", code)
	}
}

func TestRun(t *testing.T) {
	r := mustResponder(t)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var errOut bytes.Buffer
	wg.Go(func() {
		run(ctx, []string{"--addr", r.Addr(), "--id", "sim-2", "--delay", "10ms", "run"}, noEnv, &bytes.Buffer{}, &errOut)
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	var res responder.CallResult
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		res, err = r.Call(ctx, "sim-2", "program.start", nil, time.Second)
		if err == nil {
			break
		}
	}
	if err != nil || res.Status != 409 || !strings.Contains(string(res.Body), "lid_open") {
		t.Fatalf("program.start with the lid open: %v %s", err, res.Body)
	}
	for _, m := range []string{"lid.lock"} {
		if res, err := r.Call(ctx, "sim-2", m, nil, time.Second); err != nil || res.Status != 200 {
			t.Fatalf("%s: %v %s", m, err, res.Body)
		}
	}
	res, err = r.Call(ctx, "sim-2", "recipe.install", json.RawMessage(`{"id":"soup"}`), time.Second)
	if err != nil || string(res.Body) != `{"status":200,"result":{"installed":"soup"}}` {
		t.Fatalf("install: %v %s", err, res.Body)
	}
	if res, err := r.Call(ctx, "sim-2", "program.start", nil, time.Second); err != nil || res.Status != 200 {
		t.Fatalf("start: %v %s", err, res.Body)
	}
}

// TestServerList: with the first server of -addr down, the appliance
// asks the next; a list with a bad entry is refused, naming it.
func TestServerList(t *testing.T) {
	r := mustResponder(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := ln.Addr().String()
	_ = ln.Close() // nobody listens there now

	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-addr", down + ", " + r.Addr(), "-id", "sim-3", "categories"}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"soups"`) {
		t.Fatalf("output %s", out.String())
	}
	env := func(k string) string {
		if k == "APPLIANCE_ADDR" {
			return down + "," + r.Addr()
		}
		return ""
	}
	if code := run(context.Background(), []string{"-id", "sim-3", "categories"}, env, &out, &errOut); code != 0 {
		t.Fatalf("APPLIANCE_ADDR list: exit %d: %s", code, errOut.String())
	}

	errOut.Reset()
	code := run(context.Background(), []string{"-addr", r.Addr() + ",,x", "categories"}, noEnv, &out, &errOut)
	if want := `appliance: -addr: server list "` + r.Addr() + `,,x": entry 2 is empty`; code != 2 || strings.TrimSpace(errOut.String()) != want {
		t.Fatalf("bad list: exit %d, %q, want %q", code, errOut.String(), want)
	}
}
