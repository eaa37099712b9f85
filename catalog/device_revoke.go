package catalog

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
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

func revokedChannel(prefix string) string { return "{" + prefix + "}:devrevoked" }

// queueRevoked announces that device id's sessions must end.
func (s *Store) queueRevoked(ctx context.Context, p redis.Pipeliner, id string) {
	p.Publish(ctx, revokedChannel(s.opts.KeyPrefix), id)
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
	ps := s.rdb.Subscribe(ctx, revokedChannel(s.opts.KeyPrefix))
	rctx, cancel := s.rt(ctx)
	_, err = ps.Receive(rctx) // the subscription's confirmation
	cancel()
	if err != nil {
		_ = ps.Close()
		return nil, storeErr("subscribe to device revocations", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer ps.Close()
		// A receive does not end with ctx; closing ps ends it.
		stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
		defer stop()
		var backoff time.Duration
		for ctx.Err() == nil {
			msg, err := ps.ReceiveTimeout(ctx, pollEvery)
			if m, ok := msg.(*redis.Message); ok {
				revoked(m.Payload)
			}
			switch {
			case ctx.Err() != nil:
			case err != nil && !isTimeout(err):
				s.log.Debug("device revocation subscription interrupted", "error", err)
				backoff = min(max(2*backoff, 50*time.Millisecond), time.Second)
				sleep(ctx, backoff)
			default:
				backoff = 0
			}
		}
	}()
	return func() { <-done }, nil
}
