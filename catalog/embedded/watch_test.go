package embedded_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/internal/redistest"
)

// watchCase is a write by one connection (B) to a key that another (A)
// WATCHes and has read; A's MULTI/EXEC must then fail exactly when B's
// write changed the key, as Redis signals every modifying command to
// WATCH. miniredis v2.40.0 does not for some (HDEL and ZREM that leave the
// key non-empty, ZREMRANGEBY*, XTRIM), which the embedded store makes up
// for (see signal.go).
type watchCase struct {
	name    string
	setup   func(ctx context.Context, p redis.Pipeliner, key string)
	change  func(ctx context.Context, c redis.Cmdable, key string) error
	changed bool // whether B's write changes the key
}

var watchCases = []watchCase{
	{
		name:    "HDEL keeps other fields",
		setup:   hashOf("a", "b"),
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.HDel(ctx, k, "a").Err() },
		changed: true,
	},
	{
		name:  "HDEL in MULTI/EXEC",
		setup: hashOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HDel(ctx, k, "a")
				p.HDel(ctx, k, "missing")
				return nil
			})
			return err
		},
		changed: true,
	},
	{
		name:  "HDEL in a pipeline",
		setup: hashOf("a", "b", "c"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.HDel(ctx, k, "a")
				p.HDel(ctx, k, "b")
				return nil
			})
			return err
		},
		changed: true,
	},
	{
		name:  "HDEL by a script",
		setup: hashOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			return c.Eval(ctx, `return redis.call('HDEL', KEYS[1], ARGV[1])`, []string{k}, "a").Err()
		},
		changed: true,
	},
	{
		name:    "HDEL of the last field",
		setup:   hashOf("a"),
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.HDel(ctx, k, "a").Err() },
		changed: true,
	},
	{
		name:   "HDEL of a missing field",
		setup:  hashOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error { return c.HDel(ctx, k, "missing").Err() },
	},
	{
		name:    "ZREM keeps other members",
		setup:   zsetOf("a", "b"),
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.ZRem(ctx, k, "a").Err() },
		changed: true,
	},
	{
		name:  "ZREM in MULTI/EXEC",
		setup: zsetOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZRem(ctx, k, "a")
				return nil
			})
			return err
		},
		changed: true,
	},
	{
		name:   "ZREM of a missing member",
		setup:  zsetOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error { return c.ZRem(ctx, k, "missing").Err() },
	},
	{
		name:  "ZREMRANGEBYSCORE keeps other members",
		setup: zsetOf("a", "b", "c"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			return c.ZRemRangeByScore(ctx, k, "-inf", "1").Err() // a (0) and b (1)
		},
		changed: true,
	},
	{
		name:  "ZREMRANGEBYSCORE removing nothing",
		setup: zsetOf("a", "b"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			return c.ZRemRangeByScore(ctx, k, "10", "20").Err()
		},
	},
	{
		name:  "XTRIM keeps other entries",
		setup: streamOf("1-0", "2-0", "3-0"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			return c.XTrimMinID(ctx, k, "3-0").Err()
		},
		changed: true,
	},
	{
		name:  "XTRIM removing nothing",
		setup: streamOf("1-0", "2-0"),
		change: func(ctx context.Context, c redis.Cmdable, k string) error {
			return c.XTrimMinID(ctx, k, "1-0").Err()
		},
	},
	// Commands miniredis already signals, so that a fix cannot lose them.
	{
		name:    "SREM keeps other members",
		setup:   func(ctx context.Context, p redis.Pipeliner, k string) { p.SAdd(ctx, k, "a", "b") },
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.SRem(ctx, k, "a").Err() },
		changed: true,
	},
	{
		name:    "LTRIM keeps other elements",
		setup:   func(ctx context.Context, p redis.Pipeliner, k string) { p.RPush(ctx, k, "a", "b", "c") },
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.LTrim(ctx, k, 0, 1).Err() },
		changed: true,
	},
	{
		name:    "HSET",
		setup:   hashOf("a"),
		change:  func(ctx context.Context, c redis.Cmdable, k string) error { return c.HSet(ctx, k, "b", "2").Err() },
		changed: true,
	},
}

func hashOf(fields ...string) func(context.Context, redis.Pipeliner, string) {
	return func(ctx context.Context, p redis.Pipeliner, k string) {
		for _, f := range fields {
			p.HSet(ctx, k, f, "v-"+f)
		}
	}
}

// zsetOf adds members scored 0, 1, ...
func zsetOf(members ...string) func(context.Context, redis.Pipeliner, string) {
	return func(ctx context.Context, p redis.Pipeliner, k string) {
		for i, m := range members {
			p.ZAdd(ctx, k, redis.Z{Score: float64(i), Member: m})
		}
	}
}

func streamOf(ids ...string) func(context.Context, redis.Pipeliner, string) {
	return func(ctx context.Context, p redis.Pipeliner, k string) {
		for _, id := range ids {
			p.XAdd(ctx, &redis.XAddArgs{Stream: k, ID: id, Values: []string{"f", id}})
		}
	}
}

// TestWatch_SeesEveryChange runs watchCases on the embedded store and,
// with REDIS_URL set, on that Redis, which states what is right.
func TestWatch_SeesEveryChange(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		ctx := context.Background()
		dir := t.TempDir()
		e, err := embedded.Open(ctx, embedded.Options{Dir: dir, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = e.Close() })
		// Keep the keys, to compare them after a restart: signalling a
		// change must change nothing else.
		runWatchCases(t, e.Client(), "{w}:", false)
		want := dumpKeys(t, e.Client())
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		e2, err := embedded.Open(ctx, embedded.Options{Dir: dir, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		defer e2.Close()
		if diff := cmp.Diff(want, dumpKeys(t, e2.Client())); diff != "" {
			t.Fatalf("keys after a restart (-before +after):\n%s", diff)
		}
	})
	if os.Getenv("REDIS_URL") != "" {
		t.Run("redis", func(t *testing.T) {
			env := redistest.New(t)
			runWatchCases(t, env.RDB, "{"+env.Prefix+"}:", true)
		})
	}
}

// runWatchCases runs each case on keys under prefix, which carries a hash
// tag so that a key and its marker share a Cluster slot, and deletes them
// afterwards if cleanup.
func runWatchCases(t *testing.T, c redis.UniversalClient, prefix string, cleanup bool) {
	for _, tc := range watchCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			key, marker := prefix+t.Name(), prefix+t.Name()+":marker"
			if cleanup {
				t.Cleanup(func() { c.Del(ctx, key, marker) })
			}
			if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				tc.setup(ctx, p, key)
				return nil
			}); err != nil {
				t.Fatalf("setup: %v", err)
			}
			err := c.Watch(ctx, func(tx *redis.Tx) error {
				// A reads what it WATCHes, then B writes on another connection.
				if err := tx.Type(ctx, key).Err(); err != nil {
					return err
				}
				if err := tc.change(ctx, c, key); err != nil {
					t.Fatalf("change: %v", err)
				}
				_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, marker, "A", 0)
					return nil
				})
				return err
			}, key)
			switch {
			case tc.changed && !errors.Is(err, redis.TxFailedErr):
				t.Fatalf("EXEC after a change of the WATCHed key: err = %v, want %v", err, redis.TxFailedErr)
			case !tc.changed && err != nil:
				t.Fatalf("EXEC after a write that changed nothing: err = %v, want nil", err)
			}
			n, err := c.Exists(ctx, marker).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := n == 1, !tc.changed; got != want {
				t.Fatalf("A's write applied = %v, want %v", got, want)
			}
		})
	}
}

// dumpKeys returns every key of c with its content.
func dumpKeys(t *testing.T, c redis.UniversalClient) map[string]any {
	t.Helper()
	ctx := context.Background()
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		var v any
		switch typ := c.Type(ctx, k).Val(); typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = c.SMembers(ctx, k).Result()
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		case "stream":
			v, err = c.XRange(ctx, k, "-", "+").Result()
		default:
			t.Fatalf("key %q is a %q", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	return out
}
