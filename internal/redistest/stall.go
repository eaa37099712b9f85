package redistest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
)

// Stall makes every command of mr take d, like a Redis that is alive but
// stuck, until the test ends. miniredis serves one command at a time, so
// stalled commands queue up; the stall is switched off by a cleanup, which
// runs before the cleanups registered earlier (the stores', the server's),
// so that the queue drains before they close.
func Stall(tb testing.TB, mr *miniredis.Miniredis, d time.Duration) {
	var stalled atomic.Bool
	stalled.Store(true)
	mr.Server().SetPreHook(func(*server.Peer, string, ...string) bool {
		if stalled.Load() {
			time.Sleep(d)
		}
		return false
	})
	tb.Cleanup(func() { stalled.Store(false) })
}
