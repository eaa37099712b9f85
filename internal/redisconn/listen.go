package redisconn

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Subscribe subscribes to channel and waits, one round trip at most, for
// Redis to confirm, so that nothing published after it returns is missed.
// op names it in the error, EUNAVAILABLE when Redis does not answer.
func (e *Edge) Subscribe(ctx context.Context, op, channel string) (*redis.PubSub, error) {
	ps := e.rdb.Subscribe(ctx, channel)
	rctx, cancel := e.RT(ctx)
	defer cancel()
	if _, err := ps.Receive(rctx); err != nil {
		_ = ps.Close()
		return nil, e.Err(op, err)
	}
	return ps, nil
}

// Listen receives from ps until ctx ends, then closes ps and returns;
// ending ctx also ends a receive in progress. After every receive it calls
// got with what arrived (a *redis.Message; a *redis.Subscription, which
// go-redis also delivers when it has re-made a lost subscription), with
// nil and nil when nothing did within every, or with nil and the error of
// a failed receive. After a failure it pauses, 50ms doubling up to 1s
// while failures go on, so that a Redis that is down is not hammered. got
// runs on Listen's goroutine, one call at a time.
func Listen(ctx context.Context, ps *redis.PubSub, every time.Duration, got func(msg any, err error)) {
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	var pause time.Duration
	for ctx.Err() == nil {
		msg, err := ps.ReceiveTimeout(ctx, every)
		if ctx.Err() != nil {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			err = nil
		}
		got(msg, err)
		if err == nil {
			pause = 0
			continue
		}
		pause = min(max(2*pause, 50*time.Millisecond), time.Second)
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// SubscribeShard is [Edge.Subscribe] on a channel that [Edge.PublishShard]
// publishes to: on a Redis Cluster it uses sharded pub/sub (SSUBSCRIBE,
// Redis 7), which lives on the one shard that owns the channel's slot,
// instead of classic pub/sub, which every master relays to every other;
// on a single Redis or Sentinel, where there is one server, classic
// SUBSCRIBE.
func (e *Edge) SubscribeShard(ctx context.Context, op, channel string) (*redis.PubSub, error) {
	cc, ok := e.rdb.(*redis.ClusterClient)
	if !ok {
		return e.Subscribe(ctx, op, channel)
	}
	ps := cc.SSubscribe(ctx, channel)
	rctx, cancel := e.RT(ctx)
	defer cancel()
	if _, err := ps.Receive(rctx); err != nil {
		_ = ps.Close()
		return nil, e.Err(op, err)
	}
	return ps, nil
}

// PublishShard publishes msg on channel for [Edge.SubscribeShard]'s
// subscribers (SPUBLISH on a Cluster, PUBLISH otherwise), within one round
// trip, and returns how many received it. Unlike classic PUBLISH on a
// Cluster, which counts only the subscribers of the master it reached,
// both counts are every subscriber's: 0 means nobody listens.
func (e *Edge) PublishShard(ctx context.Context, op, channel string, msg any) (int64, error) {
	rctx, cancel := e.RT(ctx)
	defer cancel()
	var cmd *redis.IntCmd
	if cc, ok := e.rdb.(*redis.ClusterClient); ok {
		cmd = cc.SPublish(rctx, channel, msg)
	} else {
		cmd = e.rdb.Publish(rctx, channel, msg)
	}
	n, err := cmd.Result()
	return n, e.Err(op, err)
}
