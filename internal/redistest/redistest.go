// Package redistest gives tests a Redis to run against: a fresh miniredis,
// or, with REDIS_URL set, that real Redis (standalone, Sentinel or Cluster:
// any URL [redisconn.New] takes) under a key prefix of the test's own,
// deleted afterwards. It is for tests only: nothing but _test.go files
// imports it.
package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// Env is one Redis namespace shared by the stores of a test.
type Env struct {
	URL    string
	Prefix string
	MR     *miniredis.Miniredis  // nil against a real Redis
	RDB    redis.UniversalClient // for looking behind the store's back
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
	rdb, err := redisconn.New(env.URL, 5*time.Second)
	if err != nil {
		tb.Fatalf("redisconn.New(%q): %v", env.URL, err)
	}
	env.RDB = rdb
	tb.Cleanup(func() {
		if env.MR == nil {
			ctx := context.Background()
			for _, k := range env.Keys(tb) {
				env.RDB.Del(ctx, k)
			}
		}
		_ = env.RDB.Close()
	})
	return env
}

// Key returns the full Redis key for a key-schema suffix such as
// "devices", under the namespace's hash tag: "{"+Prefix+"}:"+suffix.
func (env *Env) Key(suffix string) string { return "{" + env.Prefix + "}:" + suffix }

// Plain returns the full Redis key for a suffix that carries a hash tag of
// its own, such as "dev:{oven-1}": Prefix+":"+suffix.
func (env *Env) Plain(suffix string) string { return env.Prefix + ":" + suffix }

// Keys returns every key of env's namespace, both {Prefix}:* and
// Prefix:*, from every master of a Redis Cluster, sorted.
func (env *Env) Keys(tb testing.TB) []string {
	tb.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c *redis.Client) error {
		for _, pattern := range []string{"{" + env.Prefix + "}:*", env.Prefix + ":*"} {
			iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				mu.Lock()
				out = append(out, iter.Val())
				mu.Unlock()
			}
			if err := iter.Err(); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	switch c := env.RDB.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		tb.Fatalf("redistest: cannot list the keys of a %T", c)
	}
	if err != nil {
		tb.Fatalf("list keys: %v", err)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Snapshot returns every key of env's namespace with its type and value,
// to show that nothing was written.
func (env *Env) Snapshot(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	out := make(map[string]string)
	for _, k := range env.Keys(tb) {
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
