package catalog

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

// newClient builds the go-redis client for opts.RedisURL: Cluster for the
// redis+cluster:// and rediss+cluster:// schemes, Sentinel when the URL
// has a master_name parameter, a plain client otherwise. Settings given in
// the URL's query win over the store's defaults.
func newClient(o Options) (redis.UniversalClient, error) {
	u, err := url.Parse(o.RedisURL)
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
		tune(o.Timeout, &co.ContextTimeoutEnabled, &co.DialTimeout, &co.ReadTimeout, &co.WriteTimeout, &co.PoolTimeout, &co.MaxRetries, &co.DialerRetries)
		return redis.NewClusterClient(co), nil
	case u.Query().Has("master_name"):
		fo, err := redis.ParseFailoverURL(o.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("catalog: Redis Sentinel URL: %w", err)
		}
		tune(o.Timeout, &fo.ContextTimeoutEnabled, &fo.DialTimeout, &fo.ReadTimeout, &fo.WriteTimeout, &fo.PoolTimeout, &fo.MaxRetries, &fo.DialerRetries)
		return redis.NewFailoverClient(fo), nil
	}
	ro, err := redis.ParseURL(o.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("catalog: Redis URL: %w", err)
	}
	tune(o.Timeout, &ro.ContextTimeoutEnabled, &ro.DialTimeout, &ro.ReadTimeout, &ro.WriteTimeout, &ro.PoolTimeout, &ro.MaxRetries, &ro.DialerRetries)
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
