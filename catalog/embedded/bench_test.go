package embedded_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog/embedded"
)

// BenchmarkWrite measures journaled writes on a hash and a sorted set of
// 10,000 entries each, as the catalog-wide keys are: a write that only
// adds, and one that also removes (whose WATCH version the store bumps
// itself, see signal.go).
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	e, err := embedded.Open(ctx, embedded.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	c := e.Client()
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for i := range 10000 {
			p.HSet(ctx, "h", "f-"+strconv.Itoa(i), "value")
			p.ZAdd(ctx, "z", redis.Z{Score: float64(i), Member: "m-" + strconv.Itoa(i)})
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		queue func(p redis.Pipeliner)
	}{
		{"HSet", func(p redis.Pipeliner) { p.HSet(ctx, "h", "x", "1"); p.HSet(ctx, "h", "x", "2") }},
		{"HSetHDel", func(p redis.Pipeliner) { p.HSet(ctx, "h", "x", "1"); p.HDel(ctx, "h", "x") }},
		{"ZAddZRem", func(p redis.Pipeliner) { p.ZAdd(ctx, "z", redis.Z{Score: 1, Member: "x"}); p.ZRem(ctx, "z", "x") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error { bc.queue(p); return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
