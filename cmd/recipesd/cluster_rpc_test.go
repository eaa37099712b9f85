package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cmd/internal/simulator"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
)

// mustHeldBy makes sure the cluster's presence names s's node as the
// holder of device id. Sessions claim their device themselves once the
// responder does so; until then (and should it do so a moment after
// CONNACK) the test claims it for s's node, as a session would.
func (s *testServer) mustHeldBy(tb testing.TB, id string) {
	tb.Helper()
	ctx := testContext(tb, 5*time.Second)
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		held, err := s.Node.Lookup(ctx, id)
		if err != nil {
			tb.Fatal(err)
		}
		if h, ok := held[id]; ok {
			if h.Node != s.Config.NodeID {
				tb.Fatalf("device %s held by %s, want %s", id, h.Node, s.Config.NodeID)
			}
			return
		}
	}
	if _, _, err := s.Node.Claim(ctx, id); err != nil {
		tb.Fatal(err)
	}
}

// TestClusterRPCFromAnyNode: a command sent to node B for a device
// connected to node A reaches the device through A, and B answers exactly
// what A answers to the same command.
func TestClusterRPCFromAnyNode(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	dev, machine := a.MustSimulator(t, appliance.Options{}, simulator.Options{})
	a.mustHeldBy(t, dev.ID)
	install := cmd{Method: "recipe.install", Params: map[string]any{"recipe": map[string]string{"id": "stew"}}}

	local := a.MustRPCClient(t).MustCall(t, dev.ID, install, 200)
	routed := b.MustRPCClient(t).MustCall(t, dev.ID, install, 200)
	if routed.Raw != local.Raw || routed.Header.Get("Answered-By") != "appliance "+dev.ID {
		t.Fatalf("through node B: %s (%v), want %s as through A", routed.Raw, routed.Header, local.Raw)
	}
	if n := machine.Commands(); n != 2 {
		t.Fatalf("device commanded %d times, want 2", n)
	}
}

// TestClusterRPCOffline: a device connected to no node is offline on
// every node, nothing sent; one whose node is gone is offline, and the
// error names that node.
func TestClusterRPCOffline(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	a.MustRegister(t, "oven-nowhere", testModel)
	for _, s := range []*testServer{a, b} {
		ans := s.MustRPCClient(t).MustCall(t, "oven-nowhere", cmd{Method: "lid.lock"}, 409)
		if ans.Error == nil || ans.Error.Code != "offline" || !strings.Contains(ans.Error.Message, "nothing was sent") {
			t.Fatalf("%s: %s", s.Config.NodeID, ans.Raw)
		}
	}

	// Held by a node that is not alive: its presence still names it.
	a.MustRegister(t, "oven-orphan", testModel)
	a.Redis.HSet("recipesd:dev:{oven-orphan}:presence", "node", "node-gone", "epoch", "1", "since", "1")
	ans := b.MustRPCClient(t).MustCall(t, "oven-orphan", cmd{Method: "lid.lock"}, 409)
	if ans.Error == nil || ans.Error.Code != "offline" || !strings.Contains(ans.Error.Message, "node node-gone, which held its connection, is gone; nothing was sent") {
		t.Fatalf("held by a dead node: %s", ans.Raw)
	}
}

// TestClusterRPCIdempotency: an idempotency key used on node A, then on
// node B, replays A's outcome on B: the device is commanded once.
func TestClusterRPCIdempotency(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	dev, machine := a.MustSimulator(t, appliance.Options{}, simulator.Options{})
	a.mustHeldBy(t, dev.ID)
	// One API token, used on both nodes: the same caller.
	apiA := a.MustRPCClient(t)
	apiB := &rpcClient{url: b.HTTPURL, token: apiA.token, http: apiA.http}
	install := cmd{Method: "recipe.install", Params: map[string]any{"recipe": map[string]string{"id": "stew"}}}

	first, err := apiA.Call(dev.ID, install, "order-7")
	if err != nil || first.HTTPStatus != 200 || first.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("on A: %v %s", err, first.Raw)
	}
	again, err := apiB.Call(dev.ID, install, "order-7")
	if err != nil || again.HTTPStatus != 200 || again.Raw != first.Raw || again.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("on B: %v %s %v, want A's outcome replayed", err, again.Raw, again.Header)
	}
	other, err := apiB.Call(dev.ID, cmd{Method: "lid.lock"}, "order-7")
	if err != nil || other.HTTPStatus != 422 || other.Error.Code != "idempotency_key_reused" {
		t.Fatalf("the key for another command on B: %v %s", err, other.Raw)
	}
	if n := machine.Commands(); n != 1 {
		t.Fatalf("device commanded %d times, want once", n)
	}
}

// TestClusterRPCHolderDies: when the node holding the device dies with a
// command in flight, the caller on another node gets a 504 within its
// timeout, not a hang: at once when the holder shuts down (the device's
// session ends), at the timeout when it vanishes without a word.
func TestClusterRPCHolderDies(t *testing.T) {
	tests := []struct {
		name     string
		kill     func(t *testing.T, s *testServer)
		wantCode string
	}{
		{"ShutDown", func(t *testing.T, s *testServer) { _ = s.Close() }, "disconnected"},
		{"Vanished", func(t *testing.T, s *testServer) {
			// Its Redis client gone, the node can neither answer nor
			// heartbeat: to the others it is a dead node.
			_ = s.RDB.Close()
			s.closeRedis = nil
		}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := MustRunMain(t)
			b := MustRunMainOn(t, a.Redis)
			dev, _ := a.MustSimulator(t, appliance.Options{}, simulator.Options{Delay: time.Minute})
			a.mustHeldBy(t, dev.ID)
			api := b.MustRPCClient(t)
			const timeout = 1500 * time.Millisecond
			killed := make(chan struct{})
			go func() {
				defer close(killed)
				time.Sleep(300 * time.Millisecond)
				tt.kill(t, a)
			}()
			defer func() { <-killed }()
			start := time.Now()
			ans, err := api.Call(dev.ID, cmd{Method: "lid.lock", TimeoutMS: int(timeout.Milliseconds())}, "")
			took := time.Since(start)
			if err != nil || ans.HTTPStatus != 504 || ans.Error.Code != tt.wantCode {
				t.Fatalf("%v %s, want 504 %s", err, ans.Raw, tt.wantCode)
			}
			if took > timeout+time.Second {
				t.Fatalf("answered after %s, want within the %s timeout", took, timeout)
			}
		})
	}
}

// TestClusterRPCTimeoutEndToEnd: the caller's timeout bounds the whole
// routed call, and the error names the caller's timeout.
func TestClusterRPCTimeoutEndToEnd(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	dev, _ := a.MustSimulator(t, appliance.Options{}, simulator.Options{Delay: 3 * time.Second})
	a.mustHeldBy(t, dev.ID)
	start := time.Now()
	ans := b.MustRPCClient(t).MustCall(t, dev.ID, cmd{Method: "lid.lock", TimeoutMS: 300}, 504)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("answered after %s, want about 300 ms", took)
	}
	if ans.Error.Code != "timeout" || !strings.Contains(ans.Error.Message, "did not answer within 300 ms.") {
		t.Fatalf("%s", ans.Raw)
	}
}

// TestClusterRPCMetrics: commands routed between nodes are counted on
// both sides by outcome, and timed on the sending node.
func TestClusterRPCMetrics(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	dev, _ := a.MustSimulator(t, appliance.Options{}, simulator.Options{})
	a.mustHeldBy(t, dev.ID)
	b.MustRPCClient(t).MustCall(t, dev.ID, cmd{Method: "lid.lock"}, 200)
	for _, c := range []struct {
		s      *testServer
		family string
	}{{b, "recipesd_rpc_routed_total"}, {a, "recipesd_rpc_routed_in_total"}} {
		token, err := c.s.Identity.CreateAPIToken(context.Background(), randomName("scraper"), "test", []string{recipes.ScopeMetrics})
		if err != nil {
			t.Fatal(err)
		}
		families := scrapeMetrics(t, c.s.HTTPURL, token)
		if got := value(series(families[c.family], map[string]string{"outcome": "answered"})); got != 1 {
			t.Errorf("%s %s{outcome=answered} = %g, want 1", c.s.Config.NodeID, c.family, got)
		}
		if c.s == b {
			if n := families["recipesd_rpc_routed_latency_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(); n != 1 {
				t.Errorf("routed latency has %d samples, want 1", n)
			}
		}
	}
}
