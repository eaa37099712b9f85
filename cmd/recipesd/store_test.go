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
