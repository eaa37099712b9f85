package embedded

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
)

// BenchmarkSignal measures what a removal from a hash or sorted set of
// 10,000 entries adds to its write: bumping the key's WATCH version.
func BenchmarkSignal(b *testing.B) {
	ctx := context.Background()
	e, err := Open(ctx, Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	if _, err := e.Client().TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 10000 {
			p.HSet(ctx, "h", "f-"+strconv.Itoa(i), "value")
			p.ZAdd(ctx, "z", redis.Z{Score: float64(i), Member: "m-" + strconv.Itoa(i)})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, key := range []string{"h", "z"} {
		b.Run(key, func(b *testing.B) {
			e.mu.Lock()
			defer e.mu.Unlock()
			for b.Loop() {
				e.signal(ctx, []string{key})
			}
		})
	}
}
