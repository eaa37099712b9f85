// Package redisconn is our go-redis edge, shared by every package that
// keeps data in Redis (catalog, identity, the embedded store): it builds
// the client for a Redis URL with the settings that make a stalled or
// absent Redis fail fast, routes the driver's own log lines, translates its
// errors into domain errors ([Err]), and runs optimistic WATCH/MULTI writes
// ([Edge.Update]) and pub/sub subscriptions ([Edge.Subscribe], [Listen]).
// It is a room of its own, under internal/, because go-redis is an outside
// dependency that several rooms use the same way, and none of them should
// import another to share it. The caller that builds a client closes it.
package redisconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout is the timeout [New] uses when given none.
const DefaultTimeout = 300 * time.Millisecond

// New builds the go-redis client for rawURL: redis://, rediss:// or
// unix:// for one server, a master_name query parameter for Sentinel, and
// the redis+cluster:// or rediss+cluster:// scheme for Cluster. timeout
// (default [DefaultTimeout]) bounds dialing, reading, writing and waiting
// for a pooled connection; settings given in the URL's query win. It does
// not connect.
func New(rawURL string, timeout time.Duration) (redis.UniversalClient, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the URL, password included; don't wrap it.
		return nil, errors.New("catalog: the Redis URL cannot be parsed")
	}
	switch {
	case strings.HasSuffix(u.Scheme, "+cluster"):
		u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
		co, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, fmt.Errorf("catalog: Redis cluster URL: %w", err)
		}
		tune(timeout, &co.ContextTimeoutEnabled, &co.DialTimeout, &co.ReadTimeout, &co.WriteTimeout, &co.PoolTimeout, &co.MaxRetries, &co.DialerRetries)
		return redis.NewClusterClient(co), nil
	case u.Query().Has("master_name"):
		fo, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("catalog: Redis Sentinel URL: %w", err)
		}
		tune(timeout, &fo.ContextTimeoutEnabled, &fo.DialTimeout, &fo.ReadTimeout, &fo.WriteTimeout, &fo.PoolTimeout, &fo.MaxRetries, &fo.DialerRetries)
		return redis.NewFailoverClient(fo), nil
	}
	ro, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("catalog: Redis URL: %w", err)
	}
	tune(timeout, &ro.ContextTimeoutEnabled, &ro.DialTimeout, &ro.ReadTimeout, &ro.WriteTimeout, &ro.PoolTimeout, &ro.MaxRetries, &ro.DialerRetries)
	return redis.NewClient(ro), nil
}

// tune fills the settings that make a stalled or absent Redis fail fast
// instead of hanging a request: go-redis ignores context deadlines unless
// ContextTimeoutEnabled is set, its default timeouts are seconds, and it
// retries a failed dial five times.
func tune(timeout time.Duration, ctxTimeout *bool, dial, read, write, pool *time.Duration, retries, dialRetries *int) {
	*ctxTimeout = true
	for _, d := range []*time.Duration{dial, read, write, pool} {
		if *d == 0 {
			*d = timeout
		}
	}
	if *retries == 0 {
		*retries = 1
	}
	if *dialRetries == 0 {
		*dialRetries = 1
	}
}

// RouteDriverLogs sends go-redis' own log lines, which otherwise go straight
// to stderr (one per failed dial during an outage), to log at debug level.
// It changes process-wide state inside go-redis, so only main calls it.
func RouteDriverLogs(log *slog.Logger) { redis.SetLogger(driverLogger{log}) }

type driverLogger struct{ log *slog.Logger }

func (l driverLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis driver", "message", fmt.Sprintf(format, v...))
}
