package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/recipesd/recipesd/recipes"
)

// Load validates all of c and only then publishes it into w with one
// call to [Writer.Sync], upserting, so a problem in the last recipe leaves
// the store as it was and loading twice is harmless. It returns a *ProblemsError if c is invalid. It cannot register
// devices, which need secrets: [Sync] can.
func Load(ctx context.Context, w Writer, c Catalog) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(c.Devices) > 0 {
		return errors.New("seed: Load cannot register devices; seed them with Sync")
	}
	if _, _, err := w.Sync(ctx, c.Categories, c.Recipes, recipes.DeviceImport{}, SyncOptions{}); err != nil {
		return fmt.Errorf("seed: import: %w", err)
	}
	return nil
}
