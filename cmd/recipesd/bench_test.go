package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/cmd/internal/simulator"
	"github.com/recipesd/recipesd/internal/appliance"
)

// Shape of the end-to-end load: 100 appliances with 8 QoS 1 requests each
// in flight, as in the core issue.
const (
	benchDevices  = 100
	benchInFlight = 8
)

// BenchmarkQoS1RoundTrips measures request→reply round trips per second at
// QoS 1 against a bare mochi broker whose inline subscriber answers each
// request on its Response Topic with a canned reply (the baseline: the least
// any responder on mochi can cost), then against the whole of recipesd
// answering from its catalog, in the same run, and reports both and their
// ratio. The canned replies are recipesd's own replies to the same topics,
// so both servers move the same bytes and the load generator, which shares
// the two cores, decodes the same JSON.
//
//	go test -run '^$' -bench QoS1RoundTrips -benchtime 100000x ./cmd/recipesd
func BenchmarkQoS1RoundTrips(b *testing.B) {
	s := MustRunMain(b, func(c *Config) { c.RedisURL, c.DataDir = "", b.TempDir() }) // the embedded store
	canned := cannedReplies(b, s)
	baseline := benchLoad(b, startEchoBroker(b, canned), b.N, nil)
	full := benchLoad(b, s.MQTTAddr, b.N, func(id string) string { return s.MustRegister(b, id, testModel) })
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(baseline, "baseline-rt/s")
	b.ReportMetric(full, "recipesd-rt/s")
	b.ReportMetric(full/baseline, "ratio")
}

// benchLoad connects the appliances, registering each with register if it
// is set, then times n round trips.
func benchLoad(b *testing.B, addr string, n int, register func(id string) (secret string)) float64 {
	b.Helper()
	b.StopTimer()
	clients := make([]*appliance.Client, benchDevices)
	run := deviceSeq.Add(1)
	for i := range clients {
		o := appliance.Options{Addr: addr, ID: fmt.Sprintf("bench-%d-%d", run, i)}
		if register != nil {
			o.Password = register(o.ID)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := appliance.Dial(ctx, o)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
	}
	var left atomic.Int64
	left.Store(int64(n))
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.StartTimer()
	start := time.Now()
	for _, c := range clients {
		for j := range benchInFlight {
			wg.Go(func() {
				for k := j; left.Add(-1) >= 0; k++ {
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					r, err := c.Ask(ctx, appliance.Request{Topic: benchTopics[k%len(benchTopics)]})
					cancel()
					if err != nil || r.Status != 200 {
						failed.Add(1)
					}
				}
			})
		}
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d round trips failed", f, n)
	}
	return float64(n) / took.Seconds()
}

// benchTopics are what the load asks for: the category list, two lists and
// two single recipes.
var benchTopics = []string{"recipes/categories", "recipes/soups", "recipes/breads", "recipes/soups/tomato-soup", "recipes/desserts/chocolate-mousse"}

// cannedReplies fetches recipesd's reply payload for each bench topic.
func cannedReplies(b *testing.B, s *testServer) map[string][]byte {
	b.Helper()
	dev := s.MustDial(b, appliance.Options{})
	out := map[string][]byte{}
	for _, topic := range benchTopics {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := dev.Ask(ctx, appliance.Request{Topic: topic})
		cancel()
		if err != nil || r.Status != 200 {
			b.Fatalf("%s: %v %v", topic, r, err)
		}
		out[topic] = r.Payload
	}
	return out
}

// startEchoBroker runs a bare mochi broker with an inline subscriber that
// answers every request on its Response Topic with its Correlation Data and
// the canned payload for its topic.
func startEchoBroker(b *testing.B, canned map[string][]byte) string {
	b.Helper()
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.DiscardHandler)})
	if err := srv.AddHook(new(allowAll), nil); err != nil {
		b.Fatal(err)
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "bench", Address: "127.0.0.1:0"})
	if err := srv.AddListener(tcp); err != nil {
		b.Fatal(err)
	}
	err := srv.Subscribe("recipes/#", 1, func(cl *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		_ = srv.InjectPacket(cl, packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
			TopicName:   pk.Properties.ResponseTopic,
			Payload:     canned[pk.TopicName],
			PacketID:    1,
			Properties: packets.Properties{
				CorrelationData: pk.Properties.CorrelationData,
				ContentType:     "application/json",
			},
		})
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	return tcp.Address()
}

// allowAll admits every client to every topic, like mochi's AllowHook.
type allowAll struct{ mqtt.HookBase }

func (*allowAll) ID() string { return "allow-all" }
func (*allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}
func (*allowAll) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }
func (*allowAll) OnACLCheck(*mqtt.Client, string, bool) bool              { return true }

// BenchmarkRPCCrossNode times commands (POST /api/devices/<id>/rpc, one
// at a time) to a device connected to the node that is called, then to
// the same device through another node on the same Redis, which routes it
// over the node bus, and reports the p50 and p99 of both.
//
//	go test -run '^$' -bench RPCCrossNode -benchtime 2000x ./cmd/recipesd
func BenchmarkRPCCrossNode(b *testing.B) {
	a := MustRunMain(b)
	other := MustRunMainOn(b, a.Redis)
	dev, _ := a.MustSimulator(b, appliance.Options{}, simulator.Options{})
	a.mustHeldBy(b, dev.ID)
	apiA := a.MustRPCClient(b)
	apiB := &rpcClient{url: other.HTTPURL, token: apiA.token, http: apiA.http}
	measure := func(api *rpcClient) (p50, p99 float64) {
		d := make([]time.Duration, 0, b.N)
		for range b.N {
			start := time.Now()
			if ans, err := api.Call(dev.ID, cmd{Method: "lid.lock"}, ""); err != nil || ans.HTTPStatus != 200 {
				b.Fatalf("%v %v", err, ans)
			}
			d = append(d, time.Since(start))
		}
		slices.Sort(d)
		return float64(d[len(d)/2].Microseconds()), float64(d[len(d)*99/100].Microseconds())
	}
	b.ResetTimer()
	p50, p99 := measure(apiA)
	xp50, xp99 := measure(apiB)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(p50, "same-p50-µs")
	b.ReportMetric(p99, "same-p99-µs")
	b.ReportMetric(xp50, "cross-p50-µs")
	b.ReportMetric(xp99, "cross-p99-µs")
}
