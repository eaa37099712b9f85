package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// TestNodesTwoServersOneRedis: two servers on one Redis each list both
// nodes, on /api/nodes and with "recipesd nodes"; a server that stops
// cleanly is gone from the list at once.
func TestNodesTwoServersOneRedis(t *testing.T) {
	a := MustRunMain(t, func(c *Config) {
		c.AdvertiseMQTT = "a.example:1883"
		c.NodeHeartbeat, c.NodeDeadAfter = 20*time.Millisecond, time.Second
	})
	b := MustRunMainOn(t, a.Redis)
	a.MustDial(t, appliance.Options{})
	wantB := b.MQTTAddr // the default: where it listens
	for _, s := range []*testServer{a, b} {
		// a's device shows from its next heartbeat on.
		deadline := time.Now().Add(5 * time.Second)
		for {
			got := apiNodes(t, s)
			ok := len(got) == 2 && got[0].ID == a.Config.NodeID && got[0].Addr == "a.example:1883" && got[0].Devices == 1 &&
				got[1].ID == b.Config.NodeID && got[1].Addr == wantB && got[1].Devices == 0 &&
				got[0].Alive && got[1].Alive && got[0].Version == "dev"
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s lists %+v", s.Config.NodeID, got)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	var out, errOut bytes.Buffer
	env := func(string) string { return "" }
	if code := run(testContext(t, 10*time.Second), []string{"nodes", "-redis-url", a.Config.RedisURL}, env, &out, &errOut); code != exitOK {
		t.Fatalf("recipesd nodes: exit %d: %s", code, errOut.String())
	}
	// Each row but its heartbeat's age, which ticks on.
	var rows []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(l)
		rows = append(rows, strings.Join(append(f[:4:4], f[len(f)-2:]...), " "))
	}
	want := []string{"ID MQTT ADDRESS VERSION DRAINING ALIVE",
		a.Config.NodeID + " a.example:1883 dev 1 false true",
		b.Config.NodeID + " " + wantB + " dev 0 false true"}
	if !slices.Equal(rows, want) {
		t.Fatalf("recipesd nodes:\n%s\nrows %q, want %q", out.String(), rows, want)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := apiNodes(t, a); len(got) != 1 || got[0].ID != a.Config.NodeID {
		t.Fatalf("after %s stopped: %+v", b.Config.NodeID, got)
	}
	out.Reset()
	if code := run(testContext(t, 10*time.Second), []string{"nodes", "-json", "-redis-url", a.Config.RedisURL}, env, &out, &errOut); code != exitOK {
		t.Fatalf("recipesd nodes -json: exit %d: %s", code, errOut.String())
	}
	var listed []recipes.Node
	if err := json.Unmarshal(out.Bytes(), &listed); err != nil || len(listed) != 1 || listed[0].ID != a.Config.NodeID {
		t.Fatalf("recipesd nodes -json: %v\n%s", err, out.String())
	}
}

// apiNodes returns GET /api/nodes of s, asked with a metrics token.
func apiNodes(t *testing.T, s *testServer) []recipes.Node {
	t.Helper()
	w := webtest.NewClient(t, s.HTTPURL)
	w.SignIn("admin", testAdminPassword).Want(303)
	api := &webtest.API{W: webtest.NewClient(t, s.HTTPURL), Token: webtest.MustToken(t, w, webtest.RandomName("monitor"), recipes.ScopeMetrics)}
	return webtest.DecodeJSON[struct{ Items []recipes.Node }](t, api.Call("GET", "/api/nodes", nil).Want(200)).Items
}

// TestNodesEmbeddedStoreLocked: the embedded store is the running
// server's; "recipesd nodes" says so rather than opening it.
func TestNodesEmbeddedStoreLocked(t *testing.T) {
	dir := t.TempDir()
	MustRunMain(t, func(c *Config) { c.RedisURL, c.DataDir = "", dir })
	var out, errOut bytes.Buffer
	code := run(testContext(t, 10*time.Second), []string{"nodes", "-data-dir", dir}, func(string) string { return "" }, &out, &errOut)
	if code != exitLocked || !strings.Contains(errOut.String(), "a running server holds it") {
		t.Fatalf("nodes while the server runs: exit %d, %q", code, errOut.String())
	}
}
