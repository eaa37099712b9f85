package main

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redistest"
)

// TestShutdownAnswersInFlight: a graceful stop answers every request it has
// accepted before it closes the connections.
func TestShutdownAnswersInFlight(t *testing.T) {
	s := MustRunMain(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	redistest.Stall(t, s.Redis, 30*time.Millisecond)
	topics := []string{"recipes/soups", "recipes/breads", "recipes/sauces", "recipes/desserts"}
	var chans []<-chan *appliance.Reply
	for _, topic := range topics {
		ch, _, err := dev.Send(ctx, appliance.Request{Topic: topic})
		if err != nil {
			t.Fatal(err)
		}
		chans = append(chans, ch)
	}
	time.Sleep(50 * time.Millisecond) // let the requests reach the pool
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range chans {
		select {
		case r := <-ch:
			if r.Status != 200 {
				t.Errorf("%s: %s", topics[i], r)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: no reply across shutdown", topics[i])
		}
	}
}
