package cluster_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// failoverBound is how long writes may fail after the master dies:
// Sentinel's down-after (1 s in .ci/run), its election and promotion,
// then the client's switch to the new master.
const failoverBound = 20 * time.Second

// TestSentinelFailover: one node on a Sentinel-managed Redis (a master,
// a replica, three sentinels); the master is killed; after the failover a
// catalog write through the API succeeds again within failoverBound, and
// devices are answered (issue 12 item 6).
func TestSentinelFailover(t *testing.T) {
	v := envOrSkip(t, "RECIPESD_E2E_BIN", "RECIPESD_E2E_REDIS_SENTINEL")
	f := startFleet(t, v[0], v[1], 1)
	nd := f.nodes[0]
	f.register(t, "sentinel-oven")
	dev := f.commandable(t, nd.mqtt, "sentinel-oven")
	ask := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		r, err := dev.Get(ctx, "recipes/categories", nil)
		if err != nil {
			return err
		}
		if r.Status != 200 {
			return fmt.Errorf("reply %v", r)
		}
		return nil
	}
	write := func(slug string) (int, error) {
		return f.do(http.MethodPost, nd.http, "/api/categories",
			map[string]string{"slug": slug, "name": "Failover " + slug, "description": "written by the e2e test"}, nil)
	}
	if code, err := write("before-failover"); err != nil || code != http.StatusCreated {
		t.Fatalf("a catalog write before the failover: HTTP %d %v", code, err)
	}
	if err := ask(); err != nil {
		t.Fatalf("a request before the failover: %v", err)
	}

	old, killed := killMaster(t, v[1])
	t.Logf("killed the master at %s", old)
	var (
		code int
		err  error
	)
	for i := 0; ; i++ {
		code, err = write(fmt.Sprintf("after-failover-%d", i))
		if err == nil && code == http.StatusCreated {
			break
		}
		if time.Since(killed) > failoverBound {
			t.Fatalf("no catalog write succeeded within %v of the master's death; last: HTTP %d %v\n%s",
				failoverBound, code, err, nd.p.tail(15))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("writes resumed %v after the master was killed", time.Since(killed).Round(time.Millisecond))
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := ask()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reply to the device after the failover: %v", err)
		}
	}
}

// killMaster asks the sentinels of sentinelURL where the master is and
// shuts it down without saving, as a crash would; it returns its address
// and when it died. The set then has no replica left: one failover per
// start of the Sentinel set.
func killMaster(t *testing.T, sentinelURL string) (string, time.Time) {
	t.Helper()
	u, err := url.Parse(sentinelURL)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s := redis.NewSentinelClient(&redis.Options{Addr: u.Host})
	defer s.Close()
	addr, err := s.GetMasterAddrByName(ctx, u.Query().Get("master_name")).Result()
	if err != nil {
		t.Fatalf("sentinel at %s: master: %v", u.Host, err)
	}
	master := redis.NewClient(&redis.Options{Addr: addr[0] + ":" + addr[1], MaxRetries: -1, DialerRetries: 1})
	defer master.Close()
	// SHUTDOWN never replies when it works; the connection just ends.
	_ = master.ShutdownNoSave(ctx).Err()
	killed := time.Now()
	if err := master.Ping(ctx).Err(); err == nil {
		t.Fatalf("the master at %s:%s still answers after SHUTDOWN NOSAVE", addr[0], addr[1])
	}
	return addr[0] + ":" + addr[1], killed
}
