package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// The identity registry meets its consumers here.
var (
	_ responder.Devices   = (*identity.Store)(nil)
	_ admin.Store         = adminStore{}
	_ seed.Writer         = seedWriter{}
	_ catalog.SyncDevices = (*identity.DeviceSeed)(nil)
)

// openIdentity returns the identity registry on rdb, the catalog's Redis,
// once keys of an older layout are moved (see identity.Open).
func openIdentity(ctx context.Context, rdb redis.UniversalClient, c StoreConfig, timeout time.Duration, passwordCost int, log *slog.Logger) (*identity.Store, error) {
	return identity.Open(ctx, rdb, identity.Options{
		KeyPrefix:    c.KeyPrefix,
		Timeout:      timeout,
		PasswordCost: passwordCost,
		Logger:       log,
	})
}

// adminStore is what the admin server keeps: the catalog and the identity
// registry.
type adminStore struct {
	*catalog.Store
	*registry
}

// registry names the embedded identity store apart from the catalog's.
type registry = identity.Store

// seedWriter writes a seed: the catalog, then its devices.
type seedWriter struct {
	cat *catalog.Store
	ids *identity.Store
}

func (w seedWriter) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, devs recipes.DeviceImport, opts seed.SyncOptions,
) ([]recipes.Change, []recipes.DeviceChange, error) {
	co := catalog.SyncOptions{Prune: opts.Prune, Drafts: opts.Draft, DryRun: opts.DryRun, Languages: opts.Languages}
	var ds *identity.DeviceSeed
	if len(devs.Devices) > 0 {
		ds = w.ids.SeedDevices(devs, opts.Secrets)
		co.Devices = ds
	}
	changes, err := w.cat.Sync(ctx, cats, recs, co)
	if errors.Is(err, identity.ErrOutcomeUnknown) {
		// The seed keeps its secrets file on the catalog's sentinel.
		err = fmt.Errorf("%w (%w)", err, catalog.ErrOutcomeUnknown)
	}
	if err != nil || ds == nil {
		return changes, nil, err
	}
	return changes, ds.Changes(), nil
}
