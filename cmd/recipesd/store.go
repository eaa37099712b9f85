package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
)

// openRedis opens the Redis everything is stored in: a client of the one
// at c.RedisURL, or, without one, the embedded store in c.DataDir. The
// caller closes it with closeRedis after everything built on it.
func openRedis(ctx context.Context, c StoreConfig, timeout time.Duration, log *slog.Logger) (rdb redis.UniversalClient, closeRedis func() error, err error) {
	if c.RedisURL != "" {
		rdb, err := redisconn.New(c.RedisURL, timeout)
		if err != nil {
			return nil, nil, err
		}
		return rdb, rdb.Close, nil
	}
	emb, err := embedded.Open(ctx, embedded.Options{Dir: c.DataDir, Timeout: timeout, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return emb.Client(), emb.Close, nil
}

// openedStore is the catalog a subcommand works on and the identity
// registry beside it, on the same Redis. Close closes both and the Redis.
type openedStore struct {
	*catalog.Store
	ids        *identity.Store
	rdb        redis.UniversalClient // what both are kept in
	closeRedis func() error
}

// Close closes the catalog, then its Redis.
func (s *openedStore) Close() error { return errors.Join(s.Store.Close(), s.closeRedis()) }

// openStore opens the catalog store for a subcommand other than serve. A
// running server holds the embedded data directory; the error says so and
// nothing is touched.
func openStore(ctx context.Context, c StoreConfig, timeout time.Duration, log *slog.Logger) (*openedStore, error) {
	rdb, closeRedis, err := openRedis(ctx, c, timeout, log)
	var locked *embedded.LockedError
	if errors.As(err, &locked) {
		return nil, fmt.Errorf("%w (a running server holds it: stop the server, or point both at a Redis with -redis-url)", err)
	}
	if err != nil {
		return nil, err
	}
	store, err := catalog.Open(ctx, rdb, catalog.Options{KeyPrefix: c.KeyPrefix, Timeout: timeout, Logger: log, RevisionsKept: c.RevisionsKept})
	if err != nil {
		return nil, errors.Join(err, closeRedis())
	}
	ids, err := openIdentity(ctx, rdb, c, timeout, 0, log)
	if err != nil {
		return nil, errors.Join(err, store.Close(), closeRedis())
	}
	return &openedStore{Store: store, ids: ids, rdb: rdb, closeRedis: closeRedis}, nil
}
