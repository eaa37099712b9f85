package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/internal/redistest"
)

// startBus starts node id's bus on env with handlers, before it listens.
func startBus(t *testing.T, env *redistest.Env, id string, handlers map[string]cluster.Handler) *cluster.Bus {
	t.Helper()
	b := cluster.NewBus(env.RDB, cluster.BusOptions{Node: id, KeyPrefix: env.Prefix})
	for kind, fn := range handlers {
		b.Handle(kind, fn)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestBusAsk: an ask reaches the named node's handler with the asker's
// deadline, and its answer (or its error) comes back to the asker; a
// message of a kind the node does not handle, such as another listener's
// drain request, is ignored.
func TestBusAsk(t *testing.T) {
	env := redistest.New(t)
	deadlines := make(chan time.Duration, 1)
	startBus(t, env, "a", map[string]cluster.Handler{
		"echo": func(ctx context.Context, from string, p json.RawMessage) (any, error) {
			if dl, ok := ctx.Deadline(); ok {
				deadlines <- time.Until(dl)
			}
			return map[string]string{"from": from, "got": string(p)}, nil
		},
		"fail": func(context.Context, string, json.RawMessage) (any, error) { return nil, errors.New("no such oven") },
	})
	b := startBus(t, env, "b", nil)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := b.Ask(ctx, "a", "echo", "hi")
	if err != nil || string(raw) != `{"from":"b","got":"\"hi\""}` {
		t.Fatalf("echo: %s %v", raw, err)
	}
	if d := <-deadlines; d <= 0 || d > 5*time.Second+2*time.Second {
		t.Fatalf("the handler had %s, want the asker's 5 s deadline (and a grace)", d)
	}
	var re *cluster.RemoteError
	if _, err := b.Ask(ctx, "a", "fail", nil); !errors.As(err, &re) || re.Node != "a" || re.Message != "no such oven" {
		t.Fatalf("fail: %v, want a's error", err)
	}

	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := b.Ask(short, "a", "drain", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a kind a does not handle: %v, want no answer (the asker's timeout)", err)
	}
	if raw, err := b.Ask(ctx, "a", "echo", 1); err != nil || string(raw) != `{"from":"b","got":"1"}` {
		t.Fatalf("echo after the ignored kind: %s %v", raw, err)
	}
}

// TestBusAskNodeNotListening: asking a node that does not run fails at
// once, and says so, instead of waiting for the deadline.
func TestBusAskNodeNotListening(t *testing.T) {
	env := redistest.New(t)
	b := startBus(t, env, "b", nil)
	a := startBus(t, env, "a", nil)
	_ = a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Redis drops a closed connection's subscriptions a moment after the
	// close, not at once: until then a publish still counts it.
	for {
		plain, err := env.RDB.PubSubNumSub(ctx, b.Channel("a")).Result()
		if err != nil {
			t.Fatal(err)
		}
		shard, _ := env.RDB.PubSubShardNumSub(ctx, b.Channel("a")).Result() // not on miniredis
		if plain[b.Channel("a")] == 0 && shard[b.Channel("a")] == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if _, err := b.Ask(ctx, "a", "echo", nil); !errors.Is(err, cluster.ErrNotListening) {
		t.Fatalf("%v, want ErrNotListening", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("took %s: waited for the deadline", took)
	}
}
