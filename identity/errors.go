package identity

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// storeErr translates an error from go-redis at the package edge: nil stays
// nil, reply errors that mean "not now" (LOADING, MASTERDOWN, ...) and every
// transport error (refused, timed out, pool timeout, closed) become
// EUNAVAILABLE, other reply errors are internal. redis.Nil must be handled
// by the caller.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	// The embedded store refuses writes it cannot journal; its error says
	// so through this method, so that this package need not know it.
	var refused interface{ Undone() bool }
	if errors.As(err, &refused) && !refused.Undone() {
		return fmt.Errorf("%w: identity: %s: %w", recipes.Errorf(recipes.EUNAVAILABLE,
			"the catalog store cannot save changes (its journal cannot be written) and refuses them until recipesd is restarted"),
			op, err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !transientReply(err) {
		return fmt.Errorf("identity: %s: %w", op, err)
	}
	return fmt.Errorf("%w: identity: %s: %w",
		recipes.Errorf(recipes.EUNAVAILABLE, "catalog store unavailable"), op, err)
}

func transientReply(err error) bool {
	msg := err.Error()
	for _, p := range []string{"LOADING ", "MASTERDOWN ", "READONLY ", "CLUSTERDOWN ", "TRYAGAIN ", "BUSY "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// corrupt reports stored data this version cannot read.
func corrupt(key string, err error) error {
	return fmt.Errorf("identity: decode %s: %w", key, err)
}

func deviceNotFound(id string) error {
	return recipes.Errorf(recipes.ENOTFOUND, "device %q not found", id)
}
