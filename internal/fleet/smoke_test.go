package fleet_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/internal/fleet"
	"github.com/recipesd/recipesd/internal/fleet/fleettest"
)

// TestRun_RealServer is the smoke run: a few hundred devices connecting
// at once to the real server, a fifth of them asking everything the mix
// has for two seconds. Every request is answered exactly once, with the
// status its kind must get.
func TestRun_RealServer(t *testing.T) {
	srv := fleettest.StartServer(t, 300)
	addr, devs := srv.Addr, srv.Devices
	mix, err := fleet.ParseMix("categories=1,list=2,get=4,search=1,conditional=2,notfound=1")
	if err != nil {
		t.Fatal(err)
	}
	// Commands to 20 devices, once all are connected (at 300/s, after
	// about a second), are answered while the fleet asks.
	const calls = 20
	results := make(chan string, calls)
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(1500 * time.Millisecond)
		for i := range calls {
			wg.Go(func() {
				res, err := srv.Responder.Call(context.Background(), devs[i*7].ID, "program.start", nil, 2*time.Second)
				results <- fmt.Sprintf("%v %d %s", err, res.Status, res.Body)
			})
		}
	})
	var progressMu sync.Mutex
	var progress []fleet.Progress
	sum, err := fleet.Run(context.Background(), fleet.Options{
		Progress: func(p fleet.Progress) {
			progressMu.Lock()
			progress = append(progress, p)
			progressMu.Unlock()
		},
		Servers:     []string{addr},
		Sources:     []string{"127.0.0.1", "127.0.0.2"},
		ConnectRate: 300,
		Devices:     devs,
		QoS:         1,
		Active:      0.2,
		Rate:        5,
		Mix:         mix,
		Warmup:      500 * time.Millisecond,
		Duration:    2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	// The live line: once a second, all connected by the last.
	if n := len(progress); n < 2 || progress[n-1].Connected != len(devs) || progress[n-1].Devices != len(devs) || progress[n-1].RoundTrips <= 0 {
		t.Errorf("progress %+v: want one a second, all %d connected and round trips by the last", progress, len(devs))
	}
	wg.Wait()
	close(results)
	for res := range results {
		if want := `<nil> 200 {"status":200,"result":{"bench":true}}`; res != want {
			t.Errorf("command: %s, want %s", res, want)
		}
	}
	if want := (fleet.CommandSummary{Received: calls, Answered: calls}); sum.Commands != want {
		t.Errorf("commands %+v, want %+v", sum.Commands, want)
	}
	if c := sum.Connect; c.Connected != len(devs) || len(c.Refused) > 0 || len(c.Failed) > 0 {
		t.Errorf("connected %d of %d, refused %v, failed %v", c.Connected, len(devs), c.Refused, c.Failed)
	}
	if diff := cmp.Diff(fleet.ExactlyOnce{}, sum.Requests.Exactly); diff != "" {
		t.Errorf("exactly-once (-want +got):\n%s", diff)
	}
	if d := sum.Disconnects; len(d.Server) > 0 || d.Dropped > 0 {
		t.Errorf("disconnects %+v", d)
	}
	r := sum.Requests
	if r.Sent == 0 || r.Answered != r.Sent || r.Skipped > 0 || len(r.Puback) > 0 || len(r.Errors) > 0 {
		t.Errorf("sent %d, answered %d, skipped %d, PUBACK refusals %v, errors %v", r.Sent, r.Answered, r.Skipped, r.Puback, r.Errors)
	}
	// Each kind gets only the statuses it must: the catalog does not
	// change during the run.
	allowed := map[string][]string{
		fleet.KindCategories:  {"200"},
		fleet.KindList:        {"200"},
		fleet.KindGet:         {"200"},
		fleet.KindSearch:      {"200"},
		fleet.KindConditional: {"200", "304"}, // 200 only for a recipe no reply has given an ETag for yet
		fleet.KindNotFound:    {"404"},
	}
	for kind, ks := range r.Kinds {
		n := uint64(0)
		for st, c := range ks.Statuses {
			if !contains(allowed[kind], st) {
				t.Errorf("%s: %d replies with status %s", kind, c, st)
			}
			n += c
		}
		if n != ks.Sent {
			t.Errorf("%s: %d sent, %d answered", kind, ks.Sent, n)
		}
	}
	if len(r.Kinds) != len(allowed) || r.Kinds[fleet.KindConditional].Statuses["304"] == 0 {
		t.Errorf("kinds %v: want all six, and some 304s", r.Kinds)
	}
	if sum.Connect.Latency.P50 <= 0 || r.Latency.P99 <= 0 || r.PerSecond <= 0 {
		t.Errorf("connect latency %+v, request latency %+v, %g round trips/s", sum.Connect.Latency, r.Latency, r.PerSecond)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
