package catalog

import (
	"context"
	"encoding/json"

	"github.com/recipesd/recipesd/recipes"
)

// The reads below serve admin and seed. They always ask Redis, so
// an editor sees their own write at once whatever the cache holds.

// Categories returns every category ordered by position, then slug.
func (s *Store) Categories(ctx context.Context) ([]recipes.Category, error) {
	items, _, err := s.readCategories(ctx)
	if err != nil {
		return nil, err
	}
	cats := make([]recipes.Category, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.json, &cats[i]); err != nil {
			return nil, corrupt(s.keys.cats+" "+it.key, err)
		}
	}
	return cats, nil
}
