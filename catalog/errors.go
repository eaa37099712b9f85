package catalog

import (
	"fmt"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// storeErr translates an error from go-redis at the package edge (see
// [redisconn.Err]); redis.Nil must be handled by the caller.
func storeErr(op string, err error) error { return redisconn.Err("catalog", op, err) }

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
