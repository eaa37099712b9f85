package identity

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// Revocations. A device's connection was admitted with the secret, model
// and enabled flag it had then; when one of them changes, or the device is
// deleted, its id is published on
//
//	{p}:devrevoked   channel PUBLISH <device id>
//
// in the same MULTI/EXEC as the change, so every server — this one, the
// others sharing the Redis, whoever made the change (admin UI, API, CLI,
// seed) — can end that device's session at once instead of at its next
// CONNECT.

// receiveEvery is how long a receive waits before it looks at ctx again.
const receiveEvery = 2 * time.Second

// queueRevoked announces that device id's sessions must end.
func (s *Store) queueRevoked(ctx context.Context, p redis.Pipeliner, id string) {
	p.Publish(ctx, s.keys.revoked, id)
}

// WatchRevokedDevices calls revoked with the id of every device whose
// credentials, model or enabled flag change, or which is deleted, by any
// writer, until ctx is cancelled. It returns once Redis has confirmed the
// subscription, so that no revocation made after it returns is missed,
// and watches in a goroutine of its own; wait blocks until that goroutine
// has stopped. revoked runs on it, one call at a time, so it must not
// block. It returns EUNAVAILABLE if the subscription cannot be made.
//
// Announcements published while the subscription is down (Redis
// restarting) are lost; the sessions concerned end at their next CONNECT,
// which is when the change takes effect without this watch.
func (s *Store) WatchRevokedDevices(ctx context.Context, revoked func(id string)) (wait func(), err error) {
	ps, err := s.edge.Subscribe(ctx, "subscribe to device revocations", s.keys.revoked)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		redisconn.Listen(ctx, ps, receiveEvery, func(msg any, err error) {
			if m, ok := msg.(*redis.Message); ok {
				revoked(m.Payload)
			}
			if err != nil {
				s.log.Debug("device revocation subscription interrupted", "error", err)
			}
		})
	}()
	return func() { <-done }, nil
}
