package catalog

import (
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestSubscriptionHealth(t *testing.T) {
	refused := errors.New("dial tcp: connection refused")
	message := &redis.Message{Payload: "7"}
	var h subscriptionHealth
	for i, step := range []struct {
		msg  any
		err  error
		want int
	}{
		{message, nil, unchanged},
		{nil, nil, unchanged}, // quiet channel
		{nil, refused, lost},
		{nil, refused, unchanged}, // logged once
		{nil, nil, unchanged},     // a timeout while Redis is away is not a recovery
		{&redis.Subscription{Kind: "subscribe"}, nil, restored},
		{nil, nil, unchanged},
		{message, nil, unchanged},
	} {
		if got := h.saw(step.msg, step.err); got != step.want {
			t.Fatalf("step %d (%v, %v): %d, want %d", i, step.msg, step.err, got, step.want)
		}
	}
}
