package identity

import (
	"fmt"

	"github.com/recipesd/recipesd/recipes"
)

// corrupt reports stored data this version cannot read.
func corrupt(key string, err error) error {
	return fmt.Errorf("identity: decode %s: %w", key, err)
}

func deviceNotFound(id string) error {
	return recipes.Errorf(recipes.ENOTFOUND, "device %q not found", id)
}
