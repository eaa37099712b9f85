package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
)

// The cost of cluster mode: one node in cluster mode against one alone on
// the same Redis (miniredis), in the same run.
//
//	go test -run '^$' -bench 'Cluster(Connects|QoS1RoundTrips)' -benchtime 20000x -count 3 ./cmd/recipesd
//
// With REDIS_URL set, both nodes use that Redis instead (miniredis runs
// Lua scripts, like the claim's, in an interpreter of its own, at a cost
// Redis does not have). Use a Redis of its own: the benchmark writes a
// catalog and devices into it.

// BenchmarkClusterConnects measures authenticated connects per second
// (CONNECT, CONNACK, SUBSCRIBE of the reply topic, DISCONNECT), from
// benchInFlight×4 devices connecting again and again.
func BenchmarkClusterConnects(b *testing.B) {
	alone, cluster := benchPair(b)
	const devices = 4 * benchInFlight
	secrets := make([]string, devices)
	run := deviceSeq.Add(1)
	for i := range secrets {
		secrets[i] = alone.MustRegister(b, fmt.Sprintf("conn-%d-%d", run, i), testModel)
	}
	// Alternating rounds, so that the load of others on the machine
	// falls on both alike.
	const rounds = 4
	connect := func(s *testServer, n int) time.Duration {
		var left, failed atomic.Int64
		left.Store(int64(n))
		var wg sync.WaitGroup
		start := time.Now()
		for i, secret := range secrets {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					c, err := appliance.Dial(ctx, appliance.Options{Addr: s.MQTTAddr, ID: fmt.Sprintf("conn-%d-%d", run, i), Password: secret})
					cancel()
					if err != nil {
						failed.Add(1)
						continue
					}
					_ = c.Close()
				}
			})
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			b.Fatalf("%d of %d connects failed", f, n)
		}
		return time.Since(start)
	}
	b.ResetTimer()
	var took [2]time.Duration
	for r := range rounds {
		n := b.N / rounds
		if r == rounds-1 {
			n = b.N - (rounds-1)*(b.N/rounds)
		}
		took[0] += connect(alone, n)
		took[1] += connect(cluster, n)
	}
	base, full := float64(b.N)/took[0].Seconds(), float64(b.N)/took[1].Seconds()
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(base, "alone-conn/s")
	b.ReportMetric(full, "cluster-conn/s")
	b.ReportMetric(full/base, "ratio")
}

// BenchmarkClusterQoS1RoundTrips is [BenchmarkQoS1RoundTrips]' load
// against a node alone and a node in cluster mode on the same Redis.
func BenchmarkClusterQoS1RoundTrips(b *testing.B) {
	alone, cluster := benchPair(b)
	register := func(id string) string { return alone.MustRegister(b, id, testModel) }
	base := benchLoad(b, alone.MQTTAddr, b.N, register)
	full := benchLoad(b, cluster.MQTTAddr, b.N, register)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(base, "alone-rt/s")
	b.ReportMetric(full, "cluster-rt/s")
	b.ReportMetric(full/base, "ratio")
}

// benchPair starts a node alone and a node in cluster mode on one Redis:
// REDIS_URL's if set, else a miniredis.
func benchPair(b *testing.B) (alone, cluster *testServer) {
	url := os.Getenv("REDIS_URL")
	onURL := func(c *Config) {
		if url != "" {
			c.RedisURL = url
		}
	}
	alone = MustRunMain(b, onURL, func(c *Config) { c.alone = true })
	return alone, MustRunMainOn(b, alone.Redis, onURL)
}
