package redisconn

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Refusal is the error of a store that refused or undid a write because
// it cannot make it durable: the embedded store's *embedded.JournalError,
// seen through this method so that its users need not know that package.
// Undone reports whether the store goes on taking writes.
type Refusal interface {
	error
	Undone() bool
}

// Err translates an error from go-redis at the edge of package pkg
// ("catalog", "identity"), which starts its text, as does op: nil stays
// nil; a write the store refuses until restart (a [Refusal] not undone),
// reply errors that mean "not now" (LOADING, MASTERDOWN, ...) and every
// transport error (refused, timed out, pool timeout, closed) become
// EUNAVAILABLE; other reply errors are internal. redis.Nil must be handled
// by the caller.
func Err(pkg, op string, err error) error {
	if err == nil {
		return nil
	}
	var refused Refusal
	if errors.As(err, &refused) && !refused.Undone() {
		return fmt.Errorf("%w: %s: %s: %w", recipes.Errorf(recipes.EUNAVAILABLE,
			"the catalog store cannot save changes (its journal cannot be written) and refuses them until recipesd is restarted"),
			pkg, op, err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !TransientReply(err) {
		return fmt.Errorf("%s: %s: %w", pkg, op, err)
	}
	return Unavailable(pkg, op, err)
}

// Unavailable returns the EUNAVAILABLE error of op in package pkg, with
// cause wrapped next to it for the logs: errors.As finds the
// *recipes.Error, errors.Is the cause.
func Unavailable(pkg, op string, cause error) error {
	return fmt.Errorf("%w: %s: %s: %w",
		recipes.Errorf(recipes.EUNAVAILABLE, "catalog store unavailable"), pkg, op, cause)
}

// TransientReply reports whether a reply error means "not now", which
// also means a command inside an EXEC did not run.
func TransientReply(err error) bool {
	msg := err.Error()
	for _, p := range []string{"LOADING ", "MASTERDOWN ", "READONLY ", "CLUSTERDOWN ", "TRYAGAIN ", "BUSY "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
