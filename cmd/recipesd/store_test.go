package main

import (
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2/server"
)

// stallRedis makes every command of the test server's miniredis take d,
// like a Redis that is alive but stuck.
func stallRedis(s *testServer, d time.Duration) {
	s.Redis.Server().SetPreHook(func(*server.Peer, string, ...string) bool {
		time.Sleep(d)
		return false
	})
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
