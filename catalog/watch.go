package catalog

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// pollEvery is how often the version is compared even when the change
// channel is quiet: a safety net for announcements lost to a dropped
// connection or a writer that died between EXEC and PUBLISH.
const pollEvery = 2 * time.Second

// watch keeps the cache coherent with writes made by other processes. It
// listens on the change channel, invalidates everything whenever the
// subscription is re-established, since announcements may have been lost
// meanwhile, and polls the version every pollEvery. It returns, having
// closed ps, when ctx is cancelled.
func (s *Store) watch(ctx context.Context, ps *redis.PubSub) {
	defer close(s.done)
	lastPoll := time.Now()
	var h subscriptionHealth
	redisconn.Listen(ctx, ps, pollEvery, func(msg any, err error) {
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				s.resync(ctx)
			}
		case *redis.Message:
			if v, perr := strconv.ParseInt(m.Payload, 10, 64); perr == nil {
				s.announced(v)
			} else {
				s.invalidate(-1)
			}
		}
		switch h.saw(msg, err) {
		case lost:
			s.log.Warn("catalog change subscription lost; retrying", "error", err)
		case restored:
			s.log.Info("catalog change subscription restored")
		}
		if time.Since(lastPoll) >= pollEvery {
			if v, err := s.Version(ctx); err == nil {
				s.polled(v)
			}
			lastPoll = time.Now()
		}
	})
}

// resync drops the whole cache after the subscription was re-made.
func (s *Store) resync(ctx context.Context) {
	v, err := s.Version(ctx)
	if err != nil {
		v = -1
	}
	s.log.Debug("catalog change subscription ready; cache dropped", "version", v)
	s.invalidate(v)
}

// subscriptionHealth tells, from each receive's outcome, when the change
// subscription is lost and when it is back, so that each is logged once.
type subscriptionHealth struct{ down bool }

const (
	unchanged = iota
	lost
	restored
)

// saw returns lost on the first failed receive, restored on the first
// message or subscription after failures, unchanged otherwise. A receive
// that timed out (nil and nil) proves nothing: Redis may still be away.
func (h *subscriptionHealth) saw(msg any, err error) int {
	switch {
	case err != nil && !h.down:
		h.down = true
		return lost
	case err == nil && msg != nil && h.down:
		h.down = false
		return restored
	}
	return unchanged
}
