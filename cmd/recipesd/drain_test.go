package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/internal/webtest"
)

// TestDrainMovesDevicesToPeer: node A, asked to drain (by "recipesd
// drain", or by SIGTERM), shows draining in the registry and on /readyz,
// answers every request it accepted, and sends its device to node B with
// DISCONNECT 0x9C and B's advertised address; the appliance follows it and
// is answered there, its unanswered request sent again; A then exits.
func TestDrainMovesDevicesToPeer(t *testing.T) {
	for _, how := range []string{"drain request", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			a := MustRunMain(t, func(c *Config) { c.NodeHeartbeat, c.NodeDeadAfter = 20*time.Millisecond, time.Second })
			b := MustRunMainOn(t, a.Redis)
			ctx := testContext(t, 30*time.Second)
			serveCtx, sigterm := context.WithCancel(ctx)
			t.Cleanup(sigterm)
			served := make(chan error, 1)
			go func() { served <- a.Serve(serveCtx) }()

			id := "oven-drain-" + strings.ReplaceAll(how, " ", "-")
			secret := a.MustRegister(t, id, testModel)
			sess := appliance.NewSession(appliance.Options{ID: id, Password: secret},
				appliance.SessionOptions{Servers: []string{a.MQTTAddr}, Logf: t.Logf})
			runCtx, stopRun := context.WithCancel(ctx)
			ran := make(chan error, 1)
			go func() { ran <- sess.Run(runCtx) }()
			t.Cleanup(func() { stopRun(); <-ran })
			onA, err := sess.Client(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}

			// Requests A accepted, still waiting on the (stalled) store when
			// the drain starts.
			redistest.Stall(t, a.Redis, 20*time.Millisecond)
			var accepted []<-chan *appliance.Reply
			for range 3 {
				ch, _, err := onA.Send(ctx, appliance.Request{Topic: "recipes/soups"})
				if err != nil {
					t.Fatal(err)
				}
				accepted = append(accepted, ch)
			}
			// One more, through the session: if A cannot answer it, it is
			// sent again to B.
			asked := make(chan *appliance.Reply, 1)
			go func() {
				r, err := sess.Ask(ctx, appliance.Request{Topic: "recipes/breads"})
				if err != nil {
					t.Errorf("request across the drain: %v", err)
				}
				asked <- r
			}()

			switch how {
			case "drain request":
				var out, errOut bytes.Buffer
				if code := run(ctx, []string{"drain", "-wait", "-redis-url", a.Config.RedisURL, a.Config.NodeID}, noEnv, &out, &errOut); code != exitOK {
					t.Fatalf("recipesd drain: exit %d: %s", code, errOut.String())
				}
				if !strings.Contains(out.String(), a.Config.NodeID+" has drained and stopped") {
					t.Errorf("recipesd drain -wait said %q", out.String())
				}
			case "SIGTERM":
				sigterm()
			}
			select {
			case err := <-served:
				if err != nil {
					t.Fatalf("Serve after the drain: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("A did not exit after draining")
			}

			for i, ch := range accepted {
				select {
				case r := <-ch:
					if r.Status != 200 {
						t.Errorf("request %d accepted by A: %s", i, r)
					}
				default:
					t.Errorf("request %d accepted by A was not answered", i)
				}
			}
			<-onA.Ended()
			d := onA.ServerDisconnect()
			if d == nil || d.ReasonCode != 0x9C || d.Properties == nil || d.Properties.ServerReference != b.MQTTAddr {
				t.Fatalf("A ended the session with %+v, want 0x9C to %s", d, b.MQTTAddr)
			}
			onB, err := sess.Client(ctx, onA)
			if err != nil {
				t.Fatal(err)
			}
			if r, err := onB.Get(ctx, "recipes/categories", nil); err != nil || r.Status != 200 {
				t.Fatalf("on B: %v %v", r, err)
			}
			if r := <-asked; r == nil || r.Status != 200 {
				t.Fatalf("request across the drain: %v", r)
			}
			if st := b.Responder.Stats(); st.Connected != 1 {
				t.Fatalf("B has %d devices connected, want 1", st.Connected)
			}
		})
	}
}

// TestDrainingNodeShowsAndIsNotReady: while a node drains it is marked in
// the registry, peers refer no device to it, and its /readyz says 503.
func TestDrainingNodeShowsAndIsNotReady(t *testing.T) {
	a := MustRunMain(t, func(c *Config) { c.DrainRate = 1 })
	b := MustRunMainOn(t, a.Redis)
	// Two devices on A at one a second: the drain lasts a second at
	// least, long enough to look at A meanwhile.
	for range 2 {
		a.MustDial(t, appliance.Options{})
	}
	ctx := testContext(t, 30*time.Second)
	drained := make(chan error, 1)
	go func() { drained <- a.Drain(ctx) }()

	deadline := time.Now().Add(5 * time.Second)
	for !a.Node.Draining() {
		if time.Now().After(deadline) {
			t.Fatal("A never marked draining")
		}
		time.Sleep(5 * time.Millisecond)
	}
	res, err := http.Get(a.HTTPURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 503 {
		t.Errorf("/readyz of a draining node: %d, want 503", res.StatusCode)
	}
	nodes := apiNodes(t, b)
	if len(nodes) != 2 || nodes[0].ID != a.Config.NodeID || !nodes[0].Draining || nodes[1].Draining {
		t.Errorf("nodes while A drains: %+v", nodes)
	}
	// B has nowhere to send devices: its only peer, A, drains.
	if addr, err := b.Node.Peers(b.Config.NodeID, 0).Pick(ctx); addr != "" || err != nil {
		t.Errorf("B would send a device to %q (%v); A drains", addr, err)
	}
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
}

// TestDrainCommandUnknownNode: "recipesd drain" names what is wrong.
func TestDrainCommandUnknownNode(t *testing.T) {
	a := MustRunMain(t)
	var out, errOut bytes.Buffer
	code := run(testContext(t, 10*time.Second), []string{"drain", "-redis-url", a.Config.RedisURL, "node-x"}, noEnv, &out, &errOut)
	want := `recipesd: drain: Node "node-x" is not registered (registered: ` + a.Config.NodeID + `).`
	if code != exitFailure || strings.TrimSpace(errOut.String()) != want {
		t.Fatalf("exit %d, %q, want %q", code, errOut.String(), want)
	}
	code = run(testContext(t, 10*time.Second), []string{"drain", "-redis-url", a.Config.RedisURL}, noEnv, &out, &errOut)
	if code != exitUsage {
		t.Fatalf("no node ID: exit %d", code)
	}
}

func noEnv(string) string { return "" }

// TestSessionResendsUnansweredRequest: a QoS 1 request whose connection
// drops before its reply is sent again, with the same Correlation Data,
// once the appliance has reconnected, and answered then.
func TestSessionResendsUnansweredRequest(t *testing.T) {
	s := MustRunMain(t)
	id := "oven-resend"
	secret := s.MustRegister(t, id, testModel)
	ctx := testContext(t, 30*time.Second)
	sess := appliance.NewSession(appliance.Options{ID: id, Password: secret},
		appliance.SessionOptions{Servers: []string{s.MQTTAddr}, Logf: t.Logf})
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- sess.Run(runCtx) }()
	t.Cleanup(func() { stopRun(); <-ran })
	first, err := sess.Client(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}

	redistest.Stall(t, s.Redis, 30*time.Millisecond) // the reply waits on the store
	asked := make(chan *appliance.Reply, 1)
	correlation := []byte("resend-me")
	go func() {
		r, err := sess.Ask(ctx, appliance.Request{Topic: "recipes/desserts", Correlation: correlation})
		if err != nil {
			t.Errorf("Ask: %v", err)
		}
		asked <- r
	}()
	for s.Responder.Stats().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	// Ended at once, its reply not written (unlike a drain).
	if !s.Responder.Disconnect(id) {
		t.Fatal("the device was not connected")
	}
	<-first.Ended()
	r := <-asked
	if r == nil || r.Status != 200 || string(r.Correlation) != string(correlation) {
		t.Fatalf("reply %v", r)
	}
	if n := s.Responder.Stats().Requests; n != 2 {
		t.Fatalf("the server saw %d requests, want 2 (sent, and sent again)", n)
	}
}

// TestDrainCommandConfirmed: "recipesd drain" says the node received the
// request (its receipt comes back over the bus, before the node drains),
// says so again when it was asked already, and names a node that is alive
// in the registry but does not listen instead of reporting it asked.
func TestDrainCommandConfirmed(t *testing.T) {
	a := MustRunMain(t)
	ctx := testContext(t, 20*time.Second)
	drain := func(id string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, []string{"drain", "-redis-url", a.Config.RedisURL, id}, noEnv, &out, &errOut)
		return code, out.String(), strings.TrimSpace(errOut.String())
	}
	id := a.Config.NodeID
	if code, out, errOut := drain(id); code != exitOK || out != id+" confirmed the request and drains\n" {
		t.Fatalf("exit %d, %q, %q", code, out, errOut)
	}
	select {
	case <-a.drainRequested.ch: // Serve would drain now
	case <-time.After(5 * time.Second):
		t.Fatal("the node confirmed, but its drain was not triggered")
	}
	if code, out, errOut := drain(id); code != exitOK || out != id+" confirmed the request; it had been asked to drain already\n" {
		t.Fatalf("again: exit %d, %q, %q", code, out, errOut)
	}

	// A node registered alive whose bus does not listen.
	mute, err := cluster.New(a.RDB, cluster.Options{ID: "node-mute", KeyPrefix: a.Config.KeyPrefix})
	if err != nil {
		t.Fatal(err)
	}
	if err := mute.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mute.Close(context.Background()) })
	want := `recipesd: drain: Node "node-mute" is registered alive but does not listen for requests (it is starting, stopping or cut off from Redis); nobody received the request. Try again in a moment.`
	if code, out, errOut := drain("node-mute"); code != exitFailure || errOut != want {
		t.Fatalf("node not listening: exit %d, %q, %q, want %q", code, out, errOut, want)
	}
}

// TestNodeChannelOneSubscriber: a node subscribes to its channel once,
// through its bus, which carries commands, takeover notices and drain
// requests alike.
func TestNodeChannelOneSubscriber(t *testing.T) {
	a := MustRunMain(t)
	MustRunMainOn(t, a.Redis)
	ctx := testContext(t, 10*time.Second)
	channel := a.Bus.Channel(a.Config.NodeID)
	subs, err := a.RDB.PubSubNumSub(ctx, channel).Result()
	if err != nil || subs[channel] != 1 {
		t.Fatalf("subscribers of %s: %v %v, want 1", channel, subs, err)
	}
}

// TestDrainButtonEmbeddedStore: on the embedded store there is no bus
// (one node), and the admin UI's drain button drains this node directly:
// Serve drains and returns.
func TestDrainButtonEmbeddedStore(t *testing.T) {
	a := MustRunMain(t, func(c *Config) { c.RedisURL = "" })
	if a.Bus != nil {
		t.Fatal("a node on the embedded store has a bus")
	}
	served := make(chan error, 1)
	go func() { served <- a.Serve(testContext(t, 30*time.Second)) }()
	w := webtest.NewClient(t, a.HTTPURL)
	w.SignIn("admin", testAdminPassword).Want(303)
	// (The flash is not looked at: the node closes its HTTP side as it
	// drains.)
	w.Post("/nodes/"+a.Config.NodeID+"/drain", nil).Want(303)
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after the drain: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not drain and exit")
	}
}
