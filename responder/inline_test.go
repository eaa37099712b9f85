package responder_test

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redistest"
)

// TestStalledStoreDoesNotBlockTheDevice: mochi runs the responder on the
// publishing device's goroutine, so a request that has to wait on a stalled
// store must not hold up that device's next request, which memory answers.
func TestStalledStoreDoesNotBlockTheDevice(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	if r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatal(r, err) // now in memory
	}
	redistest.Stall(t, s.Redis, 600*time.Millisecond)
	slow, _, err := dev.Send(ctx, appliance.Request{Topic: "recipes/sauces"}) // not in memory
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	fast, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories"})
	if err != nil || fast.Status != 200 {
		t.Fatal(fast, err)
	}
	took := time.Since(start)
	select {
	case r := <-slow:
		t.Fatalf("the stalled request was answered (%d) before the cached one; the device was blocked", r.Status)
	default:
	}
	if took > 300*time.Millisecond {
		t.Fatalf("cached request took %v behind a stalled one", took)
	}
	select {
	case r := <-slow:
		if r.Status != 200 && r.Status != 503 {
			t.Fatalf("stalled request: %s", r)
		}
	case <-ctx.Done():
		t.Fatal("the stalled request was never answered")
	}
}
