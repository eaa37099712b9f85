package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/recipesd/recipesd/recipes"
)

// Writer is what seeding needs from a catalog store.
type Writer interface {
	// Import writes cats and recs in one atomic step: all of them or, on
	// error, none. It upserts, replacing a category or recipe with the same
	// slug or id and leaving the others alone, so seeding twice is harmless.
	Import(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe) error
}

// Load validates all of c and only then imports it into w with one call to
// [Writer.Import], so a problem in the last recipe leaves the store as it
// was. It returns a *ProblemsError if c is invalid. It cannot register
// devices, which need secrets: [Sync] can.
func Load(ctx context.Context, w Writer, c Catalog) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(c.Devices) > 0 {
		return errors.New("seed: Load cannot register devices; seed them with Sync")
	}
	if err := w.Import(ctx, c.Categories, c.Recipes); err != nil {
		return fmt.Errorf("seed: import: %w", err)
	}
	return nil
}
