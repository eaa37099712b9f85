// Package redistest gives tests a Redis to run against: a fresh miniredis,
// or, with REDIS_URL set, that real Redis under a key prefix of the test's
// own, deleted afterwards. It is for tests only: nothing but _test.go
// files imports it.
package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Env is one Redis namespace shared by the stores of a test.
type Env struct {
	URL    string
	Prefix string
	MR     *miniredis.Miniredis // nil against a real Redis
	RDB    *redis.Client        // for looking behind the store's back
}

// New returns a namespace of its own for the test tb, emptied and closed
// when the test ends.
func New(tb testing.TB) *Env {
	tb.Helper()
	name := strings.Map(func(r rune) rune {
		if r == '/' || r == ' ' || r == '{' || r == '}' {
			return '-'
		}
		return r
	}, tb.Name())
	env := &Env{Prefix: fmt.Sprintf("t-%s-%08x", name, rand.Uint32())}
	if url := os.Getenv("REDIS_URL"); url != "" {
		env.URL = url
	} else {
		env.MR = miniredis.RunT(tb)
		env.URL = "redis://" + env.MR.Addr() + "/0"
	}
	opt, err := redis.ParseURL(env.URL)
	if err != nil {
		tb.Fatalf("ParseURL(%q): %v", env.URL, err)
	}
	env.RDB = redis.NewClient(opt)
	tb.Cleanup(func() {
		if env.MR == nil {
			ctx := context.Background()
			iter := env.RDB.Scan(ctx, 0, "{"+env.Prefix+"}:*", 1000).Iterator()
			for iter.Next(ctx) {
				env.RDB.Del(ctx, iter.Val())
			}
		}
		_ = env.RDB.Close()
	})
	return env
}

// Key returns the full Redis key for a key-schema suffix such as "devices".
func (env *Env) Key(suffix string) string { return "{" + env.Prefix + "}:" + suffix }

// Snapshot returns every key of env's namespace with its type and value,
// to show that nothing was written.
func (env *Env) Snapshot(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := make(map[string]string)
	keys, err := env.RDB.Keys(ctx, "{"+env.Prefix+"}:*").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for _, k := range keys {
		typ, err := env.RDB.Type(ctx, k).Result()
		if err != nil {
			tb.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = env.RDB.Get(ctx, k).Result()
		case "hash":
			v, err = env.RDB.HGetAll(ctx, k).Result()
		case "zset":
			v, err = env.RDB.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			var m []string
			m, err = env.RDB.SMembers(ctx, k).Result()
			slices.Sort(m)
			v = m
		default:
			v = "(" + typ + ")"
		}
		if err != nil {
			tb.Fatal(err)
		}
		out[k] = typ + " " + fmt.Sprint(v)
	}
	return out
}
