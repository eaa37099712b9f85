package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// Presence and one session per device across nodes: several servers on
// one miniredis, each a node of one cluster.

// dialAt connects device id with secret to s, or returns why it could not.
func dialAt(tb testing.TB, s *testServer, id, secret string) (*appliance.Client, error) {
	tb.Helper()
	return dialWithin(tb, s, id, secret, 5*time.Second)
}

// dialWithin is dialAt giving up after d.
func dialWithin(tb testing.TB, s *testServer, id, secret string, d time.Duration) (*appliance.Client, error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	c, err := appliance.Dial(ctx, appliance.Options{Addr: s.MQTTAddr, ID: id, Password: secret})
	if err == nil {
		tb.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

// mustDialAt is dialAt that fails the test.
func mustDialAt(tb testing.TB, s *testServer, id, secret string) *appliance.Client {
	tb.Helper()
	c, err := dialAt(tb, s, id, secret)
	if err != nil {
		tb.Fatalf("dial %s at %s: %v", id, s.Config.NodeID, err)
	}
	return c
}

// ended waits up to within for c's connection to end and returns the
// reason code of the server's DISCONNECT, -1 if it sent none.
func ended(tb testing.TB, c *appliance.Client, within time.Duration) int {
	tb.Helper()
	select {
	case <-c.Done():
	case <-time.After(within):
		tb.Fatalf("%s: connection still open after %s", c.ID, within)
	}
	// paho hands over the DISCONNECT after it has closed the connection.
	for deadline := time.Now().Add(200 * time.Millisecond); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if d := c.ServerDisconnect(); d != nil {
			return int(d.ReasonCode)
		}
	}
	return -1
}

// apiDevice is GET /api/devices/<id> as the presence fields go.
type apiDevicePresence struct {
	ID             string     `json:"id"`
	Connected      bool       `json:"connected"`
	Node           string     `json:"node"`
	ConnectedSince *time.Time `json:"connected_since"`
}

// deviceAPI returns an API client of s with the devices scope.
func deviceAPI(tb testing.TB, s *testServer) *webtest.API {
	tb.Helper()
	return &webtest.API{W: s.NewWebClient(tb), Token: s.MustToken(tb, s.MustSignIn(tb), randomName("presence"), recipes.ScopeDevices)}
}

func getPresence(tb testing.TB, api *webtest.API, id string) apiDevicePresence {
	tb.Helper()
	return webtest.DecodeJSON[apiDevicePresence](tb, api.Call(http.MethodGet, "/api/devices/"+id, nil).Want(200))
}

// TestTakeoverAcrossNodes: a device connecting on node B ends its session
// on node A with DISCONNECT 0x8E within a second, and every node then
// shows it on B.
func TestTakeoverAcrossNodes(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-takeover", testModel)
	first := mustDialAt(t, a, "oven-takeover", secret)

	start := time.Now()
	second := mustDialAt(t, b, "oven-takeover", secret)
	if code := ended(t, first, time.Second); code != 0x8E {
		t.Fatalf("session on %s ended with reason %#x, want 0x8E (session taken over)", a.Config.NodeID, code)
	}
	t.Logf("taken over in %s", time.Since(start))
	if _, err := second.Get(testContext(t, 5*time.Second), "recipes/categories", nil); err != nil {
		t.Fatalf("the new session on %s: %v", b.Config.NodeID, err)
	}
	for _, s := range []*testServer{a, b} {
		api := deviceAPI(t, s)
		eventually(t, "presence on "+b.Config.NodeID+" seen from "+s.Config.NodeID, func() bool {
			p := getPresence(t, api, "oven-takeover")
			return p.Connected && p.Node == b.Config.NodeID
		})
	}
}

// TestTakeoverRace: two CONNECTs of one device started together on two
// nodes, 100 times: each time exactly one session survives, and it is the
// one whose epoch Redis holds. Likewise on one node, where mochi's own
// takeover must agree with the epochs.
func TestTakeoverRace(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	t.Run("TwoNodes", func(t *testing.T) { takeoverRaces(t, a, b) })
	t.Run("OneNode", func(t *testing.T) { takeoverRaces(t, a, a) })
}

func takeoverRaces(t *testing.T, a, b *testServer) {
	nodes := []*testServer{a, b}
	run := deviceSeq.Add(1)
	for i := range 100 {
		id := fmt.Sprintf("oven-race-%d-%d", run, i)
		secret := a.MustRegister(t, id, testModel)
		clients := make([]*appliance.Client, 2)
		var wg sync.WaitGroup
		for j, s := range nodes {
			wg.Go(func() {
				// The loser may be ended before its SUBSCRIBE is answered.
				clients[j], _ = dialWithin(t, s, id, secret, time.Second)
			})
		}
		wg.Wait()
		var survivor *testServer
		var epoch uint64
		settled := func() bool {
			survivor, epoch = nil, 0
			live := 0
			for _, s := range slices.Compact(slices.Clone(nodes)) {
				if e := s.Responder.SessionEpoch(id); e != 0 {
					live++
					survivor, epoch = s, e
				}
			}
			return live == 1
		}
		deadline := time.Now().Add(3 * time.Second)
		for !settled() {
			if time.Now().After(deadline) {
				t.Fatalf("race %d: sessions of %s: %s has epoch %d, %s has %d; want exactly one", i, id,
					a.Config.NodeID, a.Responder.SessionEpoch(id), b.Config.NodeID, b.Responder.SessionEpoch(id))
			}
			time.Sleep(5 * time.Millisecond)
		}
		held, err := a.Node.Epochs(context.Background(), []string{id})
		if err != nil {
			t.Fatal(err)
		}
		holders, err := a.Node.Lookup(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if held[id] != epoch || holders[id].Node != survivor.Config.NodeID || holders[id].Epoch != epoch {
			t.Fatalf("race %d: the survivor on %s has epoch %d; Redis has epoch %d held by %+v", i, survivor.Config.NodeID, epoch, held[id], holders[id])
		}
		for _, c := range clients {
			if c != nil {
				_ = c.Close()
			}
		}
	}
}

// TestSameNodeReconnect: a device that reconnects to the same node, its
// old connection still open, is taken over by mochi; the old session's
// end must not clear the new one's presence.
func TestSameNodeReconnect(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-again", testModel)
	first := mustDialAt(t, a, "oven-again", secret)
	second := mustDialAt(t, a, "oven-again", secret)
	if code := ended(t, first, time.Second); code != 0x8E {
		t.Fatalf("first session ended with %#x, want 0x8E", code)
	}
	epoch := a.Responder.SessionEpoch("oven-again")
	if epoch == 0 {
		t.Fatal("the second session has no claim")
	}
	api := deviceAPI(t, b)
	// The first session's release runs in the background: give it time
	// to (wrongly) clear the presence.
	time.Sleep(300 * time.Millisecond)
	if p := getPresence(t, api, "oven-again"); !p.Connected || p.Node != a.Config.NodeID {
		t.Fatalf("after the reconnect, %s shows %+v; want connected on %s", b.Config.NodeID, p, a.Config.NodeID)
	}
	if got, err := a.Node.Lookup(context.Background(), "oven-again"); err != nil || got["oven-again"].Epoch != epoch {
		t.Fatalf("Redis holds %+v, %v; want the live session's epoch %d", got, err, epoch)
	}
	_ = second.Close()
	eventually(t, "presence cleared after the device left", func() bool { return !getPresence(t, api, "oven-again").Connected })
}

// TestPresenceEveryNode: the API, the device list and the device page of
// every node show where a device is connected and since when.
func TestPresenceEveryNode(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	c := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-seen", testModel)
	before := time.Now().Truncate(time.Millisecond)
	mustDialAt(t, b, "oven-seen", secret)
	var first apiDevicePresence
	for i, s := range []*testServer{a, b, c} {
		api := deviceAPI(t, s)
		p := getPresence(t, api, "oven-seen")
		if !p.Connected || p.Node != b.Config.NodeID || p.ConnectedSince == nil || p.ConnectedSince.Before(before) || time.Since(*p.ConnectedSince) > time.Minute {
			t.Fatalf("%s shows %+v; want connected on %s since the dial (%s)", s.Config.NodeID, p, b.Config.NodeID, before)
		}
		if i == 0 {
			first = p
		} else if !p.ConnectedSince.Equal(*first.ConnectedSince) {
			t.Fatalf("%s says since %s, %s says %s", s.Config.NodeID, p.ConnectedSince, a.Config.NodeID, first.ConnectedSince)
		}
		list := webtest.DecodeJSON[struct{ Items []apiDevicePresence }](t, api.Call(http.MethodGet, "/api/devices?connected=true", nil).Want(200))
		if len(list.Items) != 1 || list.Items[0].ID != "oven-seen" || list.Items[0].Node != b.Config.NodeID {
			t.Fatalf("%s lists connected devices %+v; want oven-seen on %s", s.Config.NodeID, list.Items, b.Config.NodeID)
		}
		s.MustSignIn(t).Get("/devices/oven-seen").Want(200).Has(t, "connected to "+b.Config.NodeID)
	}
}

// TestPresenceDiesWithItsNode: a node that dies without closing (its
// Redis gone first: no heartbeat, no release, its entry left behind) no
// longer has its devices shown connected on the other nodes after its
// liveness bound.
func TestPresenceDiesWithItsNode(t *testing.T) {
	const heartbeat, deadAfter = 50 * time.Millisecond, 300 * time.Millisecond
	fast := func(c *Config) { c.NodeHeartbeat, c.NodeDeadAfter = heartbeat, deadAfter }
	a := MustRunMain(t, fast)
	b := MustRunMainOn(t, a.Redis, fast)
	secret := a.MustRegister(t, "oven-orphan", testModel)
	mustDialAt(t, b, "oven-orphan", secret)
	api := deviceAPI(t, a)
	if p := getPresence(t, api, "oven-orphan"); !p.Connected || p.Node != b.Config.NodeID {
		t.Fatalf("before the crash, %s shows %+v", a.Config.NodeID, p)
	}

	// The crash: b loses its Redis, then its connections.
	closeRedis := b.closeRedis
	b.closeRedis = nil
	if err := closeRedis(); err != nil {
		t.Fatal(err)
	}
	died := time.Now()
	closed := make(chan struct{})
	go func() { _ = b.Close(); close(closed) }() // its releases fail, and are retried meanwhile
	t.Cleanup(func() { <-closed })
	// The bound: its last heartbeat ages past deadAfter, and the list of
	// live nodes is reused for up to half a second.
	for bound := heartbeat + deadAfter + 500*time.Millisecond + 200*time.Millisecond; getPresence(t, api, "oven-orphan").Connected; {
		if time.Since(died) > bound {
			t.Fatalf("%s still shows the dead node's device connected after %s", a.Config.NodeID, time.Since(died))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("presence gone %s after the crash", time.Since(died))
	if held, err := a.Node.Epochs(context.Background(), []string{"oven-orphan"}); err != nil || held["oven-orphan"] == 0 {
		t.Fatalf("epochs %v, %v: the dead node's claim should still be in Redis (nothing released it)", held, err)
	}
}

// TestDisableOnAnotherNode: disabling a device through node B ends its
// session on node A (revocations reach every node).
func TestDisableOnAnotherNode(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-disabled", testModel)
	dev := mustDialAt(t, a, "oven-disabled", secret)
	deviceAPI(t, b).Call(http.MethodPatch, "/api/devices/oven-disabled", map[string]any{"enabled": false}).Want(200)
	if code := ended(t, dev, time.Second); code != 0x98 {
		t.Fatalf("session on %s ended with %#x, want 0x98 (administrative action)", a.Config.NodeID, code)
	}
}

// TestTakeoverNoticeLost: a takeover whose notice never arrived (here: a
// claim made without one) is caught when the node's subscription is made
// again after Redis comes back.
func TestTakeoverNoticeLost(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-lost", testModel)
	dev := mustDialAt(t, a, "oven-lost", secret)
	if _, _, err := b.Node.Claim(context.Background(), "oven-lost"); err != nil { // no notice sent
		t.Fatal(err)
	}
	select {
	case <-dev.Done():
		t.Fatal("session ended before the subscription was made again")
	case <-time.After(200 * time.Millisecond):
	}
	// Every connection drops; the subscription is made again.
	a.Redis.Close()
	if err := a.Redis.Restart(); err != nil {
		t.Fatal(err)
	}
	if code := ended(t, dev, 10*time.Second); code != 0x8E {
		t.Fatalf("session ended with %#x, want 0x8E", code)
	}
}

// TestReleaseOutlastsRedisOutage: a session that ends while Redis is down
// for longer than the first few release tries is still released once
// Redis is back, so its device is not shown connected for as long as its
// node lives.
func TestReleaseOutlastsRedisOutage(t *testing.T) {
	a := MustRunMain(t)
	b := MustRunMainOn(t, a.Redis)
	secret := a.MustRegister(t, "oven-outage", testModel)
	dev := mustDialAt(t, a, "oven-outage", secret)
	api := deviceAPI(t, b)
	eventually(t, "connected on "+a.Config.NodeID, func() bool {
		p := getPresence(t, api, "oven-outage")
		return p.Connected && p.Node == a.Config.NodeID
	})
	a.Redis.Close()
	_ = dev.Close()
	// Past the first three tries (0, 0.5 and 1.5 s), well within the
	// liveness bound, so that node A stays alive throughout.
	time.Sleep(2500 * time.Millisecond)
	if err := a.Redis.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p := getPresence(t, api, "oven-outage")
		if !p.Connected {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after Redis came back the device that left during the outage is still shown %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
