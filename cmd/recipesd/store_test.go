package main

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2/server"
)

// stallRedis makes every command of the test server's miniredis take d,
// like a Redis that is alive but stuck, until the test ends. miniredis
// serves one command at a time, so stalled commands queue up; the hook is
// removed before the server shuts down so that the queue drains.
func stallRedis(tb testing.TB, s *testServer, d time.Duration) {
	var stalled atomic.Bool
	stalled.Store(true)
	s.Redis.Server().SetPreHook(func(*server.Peer, string, ...string) bool {
		if stalled.Load() {
			time.Sleep(d)
		}
		return false
	})
	tb.Cleanup(func() { stalled.Store(false) })
}

// corruptRecipe overwrites the stored JSON of recipe id with garbage.
func corruptRecipe(tb testing.TB, s *testServer, id string) {
	tb.Helper()
	key := "{" + s.Config.KeyPrefix + "}:pub:rcp:" + id
	if !s.Redis.Exists(key) {
		tb.Fatalf("key %s does not exist; has the key schema changed?", key)
	}
	if err := s.Redis.Set(key, "{not json"); err != nil {
		tb.Fatal(err)
	}
}
