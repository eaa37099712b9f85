package catalog

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// sameContent reports whether the stored JSON old holds the same content as
// v, whatever their UpdatedAt: saving an unchanged copy makes no draft.
func sameContent[T any](old []byte, v T, clear func(*T)) bool {
	if old == nil {
		return false
	}
	var prev T
	if json.Unmarshal(old, &prev) != nil {
		return false
	}
	clear(&prev)
	clear(&v)
	a, err1 := json.Marshal(prev)
	b, err2 := json.Marshal(v)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func clearCategoryTime(c *recipes.Category) { c.UpdatedAt = time.Time{} }
func clearRecipeTime(r *recipes.Recipe)     { r.UpdatedAt = time.Time{} }
