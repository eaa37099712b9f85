package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/recipesd/recipesd/catalog"
)

// openStore opens the catalog store for a subcommand other than serve. A
// running server holds the embedded data directory; the error says so and
// nothing is touched.
func openStore(ctx context.Context, c StoreConfig, timeout time.Duration, log *slog.Logger) (*catalog.Store, error) {
	store, err := catalog.Open(ctx, catalog.Options{
		RedisURL:  c.RedisURL,
		DataDir:   c.DataDir,
		KeyPrefix: c.KeyPrefix,
		Timeout:   timeout,
		Logger:    log,
	})
	var locked *catalog.LockedError
	if errors.As(err, &locked) {
		return nil, fmt.Errorf("%w (a running server holds it: stop the server, or point both at a Redis with -redis-url)", err)
	}
	return store, err
}
