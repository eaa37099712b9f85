package identity_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

// BenchmarkFleetSpread registers a fleet of 10,000 devices by seed,
// connects each once (authenticate, then a last-seen touch), lists them
// all, and signs in 200 staff sessions, then reports the keys and the
// commands each master of the Redis Cluster at REDIS_URL took, to show
// that the fleet's keys and load are spread. It needs a Cluster:
//
//	REDIS_URL=redis+cluster://127.0.0.1:PORT go test ./identity -run '^$' -bench FleetSpread -benchtime 1x
func BenchmarkFleetSpread(b *testing.B) {
	ctx := context.Background()
	env := newEnv(b)
	cc, ok := env.RDB.(*redis.ClusterClient)
	if !ok {
		b.Skip("set REDIS_URL to a redis+cluster:// URL to measure the spread")
	}
	const fleet, staff, sessions = 10_000, 10, 200
	for b.Loop() {
		must(b, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.ConfigResetStat(ctx).Err() }))
		s := env.Open(b)
		devs := make([]recipes.DeviceRecord, fleet)
		for i := range devs {
			devs[i] = devRecord(fmt.Sprintf("oven-%05d", i), "CM-100", true, "s")
		}
		ds := s.SeedDevices(recipes.DeviceImport{Devices: devs}, nil)
		if _, err := s.Sync(ctx, nil, nil, catalog.SyncOptions{Devices: ds}); err != nil {
			b.Fatal(err)
		}
		seen := make(map[string]time.Time, fleet)
		for _, d := range devs {
			if _, err := s.AuthenticateDevice(ctx, d.ID, "s"); err != nil {
				b.Fatal(err)
			}
			seen[d.ID] = time.Now()
		}
		must(b, s.TouchDevices(ctx, seen))
		if got, err := s.Devices(ctx); err != nil || len(got) != fleet {
			b.Fatalf("Devices = %d, %v", len(got), err)
		}
		for i := range staff {
			if _, err := s.AddStaff(ctx, fmt.Sprintf("staff-%d", i), "correct horse battery staple"); err != nil {
				b.Fatal(err)
			}
		}
		for i := range sessions {
			if _, err := s.CreateSession(ctx, recipes.Session{Staff: fmt.Sprintf("staff-%d", i%staff)}, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	m := 0
	must(b, cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, calls := 0, 0
		for _, pattern := range []string{"{" + env.Prefix + "}:*", env.Prefix + ":*"} {
			iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				keys++
			}
		}
		stats, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(stats, "\n") {
			if i := strings.Index(line, "calls="); i >= 0 && !strings.HasPrefix(line, "cmdstat_info") && !strings.HasPrefix(line, "cmdstat_config") {
				n, _ := strconv.Atoi(strings.SplitN(line[i+6:], ",", 2)[0])
				calls += n
			}
		}
		b.Logf("master %s: %d keys, %d commands", c.Options().Addr, keys, calls)
		m++
		return nil
	}))
	if m == 0 {
		b.Fatal("no master")
	}
}
