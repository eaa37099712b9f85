package responder

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/recipesd/recipesd/recipes"
)

func TestCallsTable(t *testing.T) {
	var cs calls
	a := &pendingCall{device: "oven-a", done: make(chan callOutcome, 1)}
	b := &pendingCall{device: "oven-b", done: make(chan callOutcome, 1)}
	cs.add("corr-a", a)
	cs.add("corr-b", b)

	if c := cs.take("corr-a", "oven-b"); c != nil {
		t.Fatal("an answer from another device was accepted")
	}
	if c := cs.take("unknown", "oven-a"); c != nil {
		t.Fatal("an unknown correlation was accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != a {
		t.Fatal("the real answer was not accepted")
	}
	if c := cs.take("corr-a", "oven-a"); c != nil {
		t.Fatal("a duplicate answer was accepted")
	}
	cs.failDevice("oven-b", recipes.ErrCallGone)
	if o := <-b.done; !errors.Is(o.err, recipes.ErrCallGone) {
		t.Fatalf("outcome %+v", o)
	}
	if n := cs.count(); n != 0 {
		t.Fatalf("%d calls pending", n)
	}
}

// TestCallOnceBounded: the idempotency memory never forgets an outcome it
// promised to remember; when full, a new key is refused without sending,
// and expired outcomes make room.
func TestCallOnceBounded(t *testing.T) {
	r := New(nil, Options{})
	r.calls.maxOnce = 2
	ctx := context.Background()
	// Not started, every call fails as offline, which is not remembered:
	// fill the memory with answered calls by hand.
	done := make(chan struct{})
	close(done)
	now := time.Now()
	for _, caller := range []string{"token:a", "token:b"} {
		if err := r.calls.remember(caller, "oven\x00k", &onceEntry{done: done, expires: now.Add(time.Minute)}, now); err != nil {
			t.Fatal(err)
		}
	}
	_, err := r.CallOnce(ctx, "token:c", "c", "oven", "lid.lock", nil, time.Second)
	var tm *recipes.CallError
	if !errors.As(err, &tm) || tm.Code != recipes.CallTooManyKeys || tm.Caller || tm.Limit != 2 {
		t.Fatalf("a third key: %v, want the global ErrTooManyKeys", err)
	}
	if r.calls.onceLen != 2 {
		t.Fatalf("%d outcomes remembered, want the 2 promised", r.calls.onceLen)
	}
	r.calls.once["token:a"]["oven\x00k"].expires = time.Now().Add(-time.Second)
	if _, err := r.CallOnce(ctx, "token:c", "c", "oven", "lid.lock", nil, time.Second); !errors.Is(err, recipes.ErrCallOffline) {
		t.Fatalf("with an expired outcome to make room: %v, want the call made (offline)", err)
	}
	if r.calls.onceLen != 1 || len(r.calls.once) != 1 {
		t.Fatalf("memory %d outcomes of %d callers, want the one of token:b", r.calls.onceLen, len(r.calls.once))
	}
}

// commandedDevice connects device id to r over TCP with paho, subscribed
// to its command topic. It answers every command with answer(n), n
// counting the commands from 1; a nil answer leaves them unanswered. It
// returns the number of commands received so far.
func commandedDevice(t *testing.T, r *Responder, id string, answer func(n int64) string) func() int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	var c *paho.Client
	c = paho.NewClient(paho.ClientConfig{
		ClientID: id,
		Conn:     conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
			k := n.Add(1)
			if answer == nil {
				return true, nil
			}
			p := pr.Packet
			go func() {
				_, _ = c.Publish(context.Background(), &paho.Publish{Topic: p.Properties.ResponseTopic, QoS: 1,
					Payload: []byte(answer(k)), Properties: &paho.PublishProperties{CorrelationData: p.Properties.CorrelationData}})
			}()
			return true, nil
		}},
		OnClientError: func(error) {},
	})
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 30, CleanStart: true,
		Username: id, UsernameFlag: true, Password: []byte("secret"), PasswordFlag: true}); err != nil {
		_ = conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}); _ = conn.Close(); <-c.Done() })
	if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: rpcRequestTopic(id), QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	return n.Load
}

// TestCallOnceCallers: idempotency keys belong to their caller. The same
// key from another caller is another call, never the first caller's
// outcome; and a caller that fills its share of the memory is refused new
// keys while other callers' keyed calls go on.
func TestCallOnceCallers(t *testing.T) {
	r := mustStart(t, Options{Devices: acceptAll{}})
	r.calls.mu.Lock()
	r.calls.maxCaller = 3
	r.calls.mu.Unlock()
	commands := commandedDevice(t, r, "oven-1", func(n int64) string { return fmt.Sprintf(`{"status":200,"result":%d}`, n) })
	ctx := context.Background()
	call := func(caller, key string) (CallResult, error) {
		return r.CallOnce(ctx, caller, key, "oven-1", "lid.lock", nil, 5*time.Second)
	}

	a1, err := call("token:a", "k1")
	if err != nil || string(a1.Body) != `{"status":200,"result":1}` || a1.Replayed {
		t.Fatalf("a's first call: %+v %v", a1, err)
	}
	b1, err := call("token:b", "k1")
	if err != nil || string(b1.Body) != `{"status":200,"result":2}` || b1.Replayed {
		t.Fatalf("b with a's key got %s (replayed %v), %v; want its own call answered", b1.Body, b1.Replayed, err)
	}
	if again, err := call("token:a", "k1"); err != nil || string(again.Body) != string(a1.Body) || !again.Replayed {
		t.Fatalf("a's retry: %+v %v, want a's first outcome replayed", again, err)
	}

	// a fills its share: its fourth key is refused, nothing sent.
	for _, k := range []string{"k2", "k3"} {
		if _, err := call("token:a", k); err != nil {
			t.Fatalf("a %s: %v", k, err)
		}
	}
	before := commands()
	_, err = call("token:a", "k4")
	var tm *recipes.CallError
	if !errors.As(err, &tm) || tm.Code != recipes.CallTooManyKeys || !tm.Caller || tm.Limit != 3 {
		t.Fatalf("a's fourth key: %v, want a's share full", err)
	}
	if got := commands(); got != before {
		t.Fatalf("the refused call commanded the device (%d commands, %d before)", got, before)
	}
	// b, and a newcomer, are not affected; a's remembered outcomes still are.
	for _, k := range []string{"k2", "k3"} {
		if _, err := call("token:b", k); err != nil {
			t.Fatalf("b %s while a's share is full: %v", k, err)
		}
	}
	if _, err := call("staff:alice", "k4"); err != nil {
		t.Fatalf("another caller while a's share is full: %v", err)
	}
	if again, err := call("token:a", "k3"); err != nil || !again.Replayed {
		t.Fatalf("a's remembered k3: %+v %v", again, err)
	}
}

// TestCallOnceReplaysTimeout: a remembered timeout keeps the original
// call's timeout, whatever the retry asks for.
func TestCallOnceReplaysTimeout(t *testing.T) {
	r := mustStart(t, Options{Devices: acceptAll{}})
	commandedDevice(t, r, "oven-1", nil)
	ctx := context.Background()
	_, err := r.CallOnce(ctx, "token:a", "k", "oven-1", "lid.lock", nil, 150*time.Millisecond)
	var te *recipes.CallError
	if !errors.As(err, &te) || te.Code != recipes.CallTimeout || te.Timeout != 150*time.Millisecond {
		t.Fatalf("first call: %v, want a 150 ms timeout", err)
	}
	res, err := r.CallOnce(ctx, "token:a", "k", "oven-1", "lid.lock", nil, 20*time.Second)
	if !errors.As(err, &te) || te.Timeout != 150*time.Millisecond || !res.Replayed || !errors.Is(err, recipes.ErrCallTimeout) {
		t.Fatalf("retry: %v (replayed %v), want the first call's 150 ms timeout replayed", err, res.Replayed)
	}
}
