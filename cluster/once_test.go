package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// device is the appliance behind one node: its Call runs answer for each
// command and counts the commands. It stands where a node's responder
// stands (cluster.Local), which needs MQTT and a device session to run
// (cmd/recipesd's cluster RPC tests run it); what it returns are the
// outcomes the responder returns, so that once.go meets each of them.
type device struct {
	n      atomic.Int64
	answer func(ctx context.Context, n int64, timeout time.Duration) (cluster.Answer, error)
}

func (d *device) Connected(string) bool { return true }

func (d *device) Call(ctx context.Context, _, _ string, _ json.RawMessage, timeout time.Duration) (cluster.Answer, error) {
	return d.answer(ctx, d.n.Add(1), timeout)
}

func (d *device) commands() int64 { return d.n.Load() }

// answering is a device that answers command n with {"n":n}.
func answering() *device {
	return &device{answer: func(_ context.Context, n int64, _ time.Duration) (cluster.Answer, error) {
		return cluster.Answer{Status: 200, Body: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}, nil
	}}
}

// newCommands returns a node's commands on env, without a bus: every
// command runs on dev, and the idempotency keys are the real ones in env.
func newCommands(env *redistest.Env, dev cluster.Local, maxKeys int) *cluster.Commands {
	return cluster.NewCommands(env.RDB, dev, cluster.CommandOptions{Node: "node-a", KeyPrefix: env.Prefix, MaxKeysPerCaller: maxKeys})
}

func keyed(caller, key string, timeout time.Duration) cluster.Command {
	return cluster.Command{Device: "oven-1", Method: "lid.lock", Params: json.RawMessage(`{"why":"test"}`),
		Timeout: timeout, Key: key, Caller: caller}
}

// callKeys returns env's idempotency keys: the outcomes and the callers'
// sets.
func callKeys(t *testing.T, env *redistest.Env) []string {
	t.Helper()
	var out []string
	for _, k := range env.Keys(t) {
		if strings.Contains(k, ":call:") || strings.HasSuffix(k, ":calls") {
			out = append(out, k)
		}
	}
	return out
}

// TestCallOnceCallerBound: a caller who has its share of keys remembered
// is refused a new key, nothing sent, and told it is its own share that is
// full; its remembered keys still replay, and other callers' keyed calls
// go on.
func TestCallOnceCallerBound(t *testing.T) {
	env := redistest.New(t)
	dev := answering()
	c := newCommands(env, dev, 3)
	ctx := context.Background()

	for i, k := range []string{"k1", "k2", "k3"} {
		ans, err := c.Call(ctx, keyed("token:a", k, 5*time.Second))
		if err != nil || ans.Replayed || string(ans.Body) != fmt.Sprintf(`{"n":%d}`, i+1) {
			t.Fatalf("a's %s: %+v %v, want answered", k, ans, err)
		}
	}
	_, err := c.Call(ctx, keyed("token:a", "k4", 5*time.Second))
	var ce *recipes.CallError
	if !errors.As(err, &ce) || ce.Code != recipes.CallTooManyKeys || !ce.Caller || ce.Limit != 3 {
		t.Fatalf("a's fourth key: %v, want CallTooManyKeys for a's share of 3", err)
	}
	if n := dev.commands(); n != 3 {
		t.Fatalf("the refused key commanded the device: %d commands, want 3", n)
	}
	if again, err := c.Call(ctx, keyed("token:a", "k3", 5*time.Second)); err != nil || !again.Replayed || string(again.Body) != `{"n":3}` {
		t.Fatalf("a's remembered k3 at the bound: %+v %v, want its outcome replayed", again, err)
	}

	// Another caller, with the same key names, is not held back by a's
	// share, and never gets a's outcomes.
	for i, k := range []string{"k1", "k2", "k3"} {
		ans, err := c.Call(ctx, keyed("token:b", k, 5*time.Second))
		if err != nil || ans.Replayed || string(ans.Body) != fmt.Sprintf(`{"n":%d}`, i+4) {
			t.Fatalf("b's %s while a's share is full: %+v %v, want b's own call answered", k, ans, err)
		}
	}
	if n := dev.commands(); n != 6 {
		t.Fatalf("%d commands, want 6", n)
	}
}

// TestCallOnceDeadClaimFreesItself: the claim of a node that died with a
// keyed call in flight holds the key (a retry does not command the device
// a second time while the first may still be answered) only for the
// call's timeout and a margin; then a retry runs.
func TestCallOnceDeadClaimFreesItself(t *testing.T) {
	env := redistest.New(t)
	// Node A, with a Redis client of its own to lose.
	rdbA, err := redisconn.New(env.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	devA := &device{answer: func(ctx context.Context, _ int64, timeout time.Duration) (cluster.Answer, error) {
		close(started)
		time.Sleep(timeout)
		return cluster.Answer{}, &recipes.CallError{Code: recipes.CallTimeout, Timeout: timeout}
	}}
	a := cluster.NewCommands(rdbA, devA, cluster.CommandOptions{Node: "node-a", KeyPrefix: env.Prefix})
	const timeoutA = 200 * time.Millisecond
	doneA := make(chan struct{})
	go func() {
		defer close(doneA)
		_, _ = a.Call(context.Background(), keyed("token:a", "k", timeoutA))
	}()
	<-started
	_ = rdbA.Close() // A dies: it cannot settle its claim
	<-doneA

	devB := answering()
	b := cluster.NewCommands(env.RDB, devB, cluster.CommandOptions{Node: "node-b", KeyPrefix: env.Prefix})
	ctx := context.Background()
	_, err = b.Call(ctx, keyed("token:a", "k", 100*time.Millisecond))
	if !errors.Is(err, recipes.ErrCallTimeout) || !strings.Contains(err.Error(), "still waiting") || devB.commands() != 0 {
		t.Fatalf("a retry while A's claim lives: %v (%d commands), want a timeout waiting for A's outcome, nothing sent",
			err, devB.commands())
	}

	wait := 10 * time.Second // against a real Redis: the claim frees itself in timeoutA + 2 s
	if env.MR != nil {
		env.MR.FastForward(timeoutA + 2*time.Second)
		wait = time.Second
	}
	ans, err := b.Call(ctx, keyed("token:a", "k", wait))
	if err != nil || ans.Replayed || string(ans.Body) != `{"n":1}` {
		t.Fatalf("a retry after A's claim expired: %+v %v, want the command sent and answered", ans, err)
	}
}

// TestCallOnceDeadClaimFreesItsShare: the key of a node that died with
// the call counts in its caller's share only as long as its claim lives,
// not for the whole idempotency window: nothing is remembered of it. A
// remembered outcome counts for the window.
func TestCallOnceDeadClaimFreesItsShare(t *testing.T) {
	env := redistest.New(t)
	rdbA, err := redisconn.New(env.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const timeoutA = 100 * time.Millisecond
	devA := &device{answer: func(_ context.Context, _ int64, timeout time.Duration) (cluster.Answer, error) {
		_ = rdbA.Close() // A dies with the call: it cannot settle its claim
		return cluster.Answer{}, &recipes.CallError{Code: recipes.CallTimeout, Timeout: timeout}
	}}
	a := cluster.NewCommands(rdbA, devA, cluster.CommandOptions{Node: "node-a", KeyPrefix: env.Prefix, MaxKeysPerCaller: 1})
	ctx := context.Background()
	_, _ = a.Call(ctx, keyed("token:a", "k", timeoutA))

	devB := answering()
	b := cluster.NewCommands(env.RDB, devB, cluster.CommandOptions{Node: "node-b", KeyPrefix: env.Prefix, MaxKeysPerCaller: 1})
	if _, err := b.Call(ctx, keyed("token:a", "k2", time.Second)); !errors.Is(err, recipes.ErrCallTooManyKeys) {
		t.Fatalf("another key while A's claim lives: %v, want the caller's share of 1 full", err)
	}
	// Another caller's answered call, as short: its outcome, remembered,
	// counts for the window, however short its claim.
	if _, err := b.Call(ctx, keyed("token:b", "k", timeoutA)); err != nil {
		t.Fatal(err)
	}
	// The share is counted by the clock of the nodes, not Redis's.
	time.Sleep(timeoutA + 2*time.Second)
	if ans, err := b.Call(ctx, keyed("token:a", "k2", time.Second)); err != nil || ans.Replayed || devB.commands() != 2 {
		t.Fatalf("another key once A's claim is gone: %+v %v, want it sent", ans, err)
	}
	if _, err := b.Call(ctx, keyed("token:b", "k2", time.Second)); !errors.Is(err, recipes.ErrCallTooManyKeys) || devB.commands() != 2 {
		t.Fatalf("b's second key while its first outcome is remembered: %v, want b's share of 1 full", err)
	}
}

// TestCallOnceWaiterGetsPendingOutcome: a call with the key of a call still
// running, on another node, waits for that call's outcome and gets it
// replayed, a timeout too: the device is commanded once. The outcome is
// then remembered for the idempotency window.
func TestCallOnceWaiterGetsPendingOutcome(t *testing.T) {
	const timeoutA = 500 * time.Millisecond
	tests := []struct {
		name    string
		outcome func(timeout time.Duration) (cluster.Answer, error)
		check   func(ans cluster.Answer, err error) error
	}{
		{"Answered", func(time.Duration) (cluster.Answer, error) {
			return cluster.Answer{Status: 200, Body: json.RawMessage(`{"locked":true}`)}, nil
		}, func(ans cluster.Answer, err error) error {
			if err != nil || ans.Status != 200 || string(ans.Body) != `{"locked":true}` {
				return fmt.Errorf("%+v %v, want the first call's answer", ans, err)
			}
			return nil
		}},
		{"Timeout", func(timeout time.Duration) (cluster.Answer, error) {
			return cluster.Answer{}, &recipes.CallError{Code: recipes.CallTimeout, Timeout: timeout}
		}, func(_ cluster.Answer, err error) error {
			var ce *recipes.CallError
			if !errors.As(err, &ce) || ce.Code != recipes.CallTimeout || ce.Timeout != timeoutA || strings.Contains(err.Error(), "still waiting") {
				return fmt.Errorf("%v, want the first call's %s timeout", err, timeoutA)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := redistest.New(t)
			started, finished := make(chan struct{}), make(chan struct{})
			devA := &device{answer: func(_ context.Context, n int64, timeout time.Duration) (cluster.Answer, error) {
				if n == 1 {
					close(started)
					defer close(finished)
				}
				time.Sleep(timeout) // the device answers late, or never
				return tt.outcome(timeout)
			}}
			devB := answering()
			a := newCommands(env, devA, 0)
			b := cluster.NewCommands(env.RDB, devB, cluster.CommandOptions{Node: "node-b", KeyPrefix: env.Prefix})
			ctx := context.Background()

			type result struct {
				ans         cluster.Answer
				err         error
				afterFirstA bool
			}
			resA, resB := make(chan result, 1), make(chan result, 1)
			go func() {
				ans, err := a.Call(ctx, keyed("token:a", "k", timeoutA))
				resA <- result{ans: ans, err: err}
			}()
			<-started
			go func() {
				ans, err := b.Call(ctx, keyed("token:a", "k", 10*time.Second))
				select {
				case <-finished:
					resB <- result{ans, err, true}
				default:
					resB <- result{ans, err, false}
				}
			}()
			first, waiter := <-resA, <-resB
			if err := tt.check(first.ans, first.err); err != nil || first.ans.Replayed {
				t.Fatalf("the first call: %v (replayed %v)", err, first.ans.Replayed)
			}
			if err := tt.check(waiter.ans, waiter.err); err != nil || !waiter.ans.Replayed || !waiter.afterFirstA {
				t.Fatalf("the waiter on node B: %v (replayed %v, after the first call's outcome %v), want it replayed",
					err, waiter.ans.Replayed, waiter.afterFirstA)
			}
			if devA.commands() != 1 || devB.commands() != 0 {
				t.Fatalf("commands: %d through A, %d through B; want the one of the first call", devA.commands(), devB.commands())
			}

			// Remembered for the window, then forgotten.
			ans, err := b.Call(ctx, keyed("token:a", "k", time.Second))
			if err := tt.check(ans, err); err != nil || !ans.Replayed {
				t.Fatalf("a later retry: %v (replayed %v)", err, ans.Replayed)
			}
			var ttl time.Duration
			for _, k := range callKeys(t, env) {
				if strings.Contains(k, ":dev:{oven-1}:call:") {
					ttl = env.RDB.PTTL(ctx, k).Val()
				}
			}
			if ttl <= cluster.IdempotencyWindow-time.Minute || ttl > cluster.IdempotencyWindow {
				t.Fatalf("the outcome lives %s, want the %s window", ttl, cluster.IdempotencyWindow)
			}
			if env.MR == nil {
				return
			}
			env.MR.FastForward(cluster.IdempotencyWindow)
			if ans, err := b.Call(ctx, keyed("token:a", "k", time.Second)); err != nil || ans.Replayed || devB.commands() != 1 {
				t.Fatalf("after the window: %+v %v (%d commands through B), want the command sent again", ans, err, devB.commands())
			}
		})
	}
}

// TestCallOnceForgetsUnsentOutcomes: an outcome that leaves the device
// uncommanded (offline, too large, busy) or unknown to the caller (it
// canceled) is not remembered: nothing of the key is left in Redis, not
// even in the caller's share, and a retry with the key commands the
// device.
func TestCallOnceForgetsUnsentOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		outcome func(ctx context.Context, cancel context.CancelFunc) error
		want    error
	}{
		{"Offline", func(context.Context, context.CancelFunc) error { return recipes.ErrCallOffline }, recipes.ErrCallOffline},
		{"TooLarge", func(context.Context, context.CancelFunc) error {
			return &recipes.CallError{Code: recipes.CallTooLarge, Size: 300, Limit: 256}
		}, recipes.ErrCallTooLarge},
		{"Busy", func(context.Context, context.CancelFunc) error { return recipes.ErrCallBusy }, recipes.ErrCallBusy},
		{"Canceled", func(ctx context.Context, cancel context.CancelFunc) error {
			cancel() // the caller leaves while the device has the command
			<-ctx.Done()
			return ctx.Err()
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := redistest.New(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dev := &device{answer: func(ctx context.Context, n int64, _ time.Duration) (cluster.Answer, error) {
				if n == 1 {
					return cluster.Answer{}, tt.outcome(ctx, cancel)
				}
				return cluster.Answer{Status: 200, Body: json.RawMessage(`{"locked":true}`)}, nil
			}}
			c := newCommands(env, dev, 1)
			if _, err := c.Call(ctx, keyed("token:a", "k", 5*time.Second)); !errors.Is(err, tt.want) {
				t.Fatalf("first call: %v, want %v", err, tt.want)
			}
			if left := callKeys(t, env); len(left) != 0 {
				t.Fatalf("left in Redis: %v, want nothing of the key", left)
			}
			ans, err := c.Call(context.Background(), keyed("token:a", "k", 5*time.Second))
			if err != nil || ans.Replayed || dev.commands() != 2 {
				t.Fatalf("retry: %+v %v (%d commands), want the command sent again", ans, err, dev.commands())
			}
			if again, err := c.Call(context.Background(), keyed("token:a", "k", 5*time.Second)); err != nil || !again.Replayed || dev.commands() != 2 {
				t.Fatalf("after the retry: %+v %v (%d commands), want the retry's outcome replayed", again, err, dev.commands())
			}
		})
	}
}
