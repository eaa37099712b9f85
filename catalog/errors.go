package catalog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// unavailable returns the EUNAVAILABLE error for op, with cause wrapped
// next to it for the logs: errors.As finds the *recipes.Error, errors.Is
// the cause.
func unavailable(op string, cause error) error {
	return fmt.Errorf("%w: catalog: %s: %w",
		recipes.Errorf(recipes.EUNAVAILABLE, "catalog store unavailable"), op, cause)
}

// unsaved is the error of a store that refused or undid a write because
// it cannot make it durable: the embedded store's *embedded.JournalError.
// Undone reports whether the store goes on taking writes.
type unsaved interface {
	error
	Undone() bool
}

// readOnly is the EUNAVAILABLE error of a write the embedded store refused
// (or undid) because its journal cannot be written.
func readOnly(op string, cause error) error {
	return fmt.Errorf("%w: catalog: %s: %w", recipes.Errorf(recipes.EUNAVAILABLE,
		"the catalog store cannot save changes (its journal cannot be written) and refuses them until recipesd is restarted"),
		op, cause)
}

// storeErr translates an error from go-redis at the package edge: nil stays
// nil, reply errors that mean "not now" (LOADING, MASTERDOWN, ...) and every
// transport error (refused, timed out, pool timeout, closed) become
// EUNAVAILABLE, other reply errors are internal. redis.Nil must be handled
// by the caller.
func storeErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var jerr unsaved
	if errors.As(err, &jerr) && !jerr.Undone() {
		return readOnly(op, err)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !transientReply(err) {
		return fmt.Errorf("catalog: %s: %w", op, err)
	}
	return unavailable(op, err)
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
	return fmt.Errorf("catalog: decode %s: %w", key, err)
}

func categoryNotFound(slug string) error {
	return recipes.Errorf(recipes.ENOTFOUND, "category %q not found", slug)
}

func recipeNotFound(id, slug string) error {
	return recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found in category %q", id, slug)
}

func unknownCategory(id, slug string) error {
	return recipes.Errorf(recipes.EINVALID, "recipe %q: category %q does not exist", id, slug)
}

func badCursor() error {
	return recipes.Errorf(recipes.EINVALID, "cursor is not one this server issued")
}

// fieldError is a *recipes.ValidationError about one field.
func fieldError(kind, id, field, format string, args ...any) error {
	return &recipes.ValidationError{Kind: kind, ID: id, Fields: []recipes.FieldError{{
		Field: field, Message: fmt.Sprintf(format, args...),
	}}}
}
