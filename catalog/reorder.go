package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// ReorderCategories sets the order of all categories, published or not:
// slugs must name each of them exactly once. Published categories take
// their new place at once; it returns EINVALID for a list that does not
// match the catalog.
func (s *Store) ReorderCategories(ctx context.Context, slugs []string) error {
	return s.publishing(ctx, "reorder categories", 5, []string{s.keys.cats, s.keys.draftCats()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			pub, drafts, err := s.categoryJSON(ctx, tx, "reorder categories")
			if err != nil {
				return nil, err
			}
			seen := map[string]bool{}
			for _, slug := range slugs {
				_, p := pub[slug]
				_, d := drafts[slug]
				switch {
				case seen[slug]:
					return nil, recipes.Errorf(recipes.EINVALID, "category %q is listed twice", slug)
				case !p && !d:
					return nil, recipes.Errorf(recipes.EINVALID, "category %q does not exist", slug)
				}
				seen[slug] = true
			}
			for slug := range pub {
				if !seen[slug] {
					return nil, recipes.Errorf(recipes.EINVALID, "the new order leaves out category %q", slug)
				}
			}
			for slug := range drafts {
				if !seen[slug] {
					return nil, recipes.Errorf(recipes.EINVALID, "the new order leaves out category %q", slug)
				}
			}
			type put struct {
				key, slug string
				pos       int
				b         []byte
			}
			var puts []put
			for i, slug := range slugs {
				pos := (i + 1) * 10
				for key, m := range map[string]map[string]string{s.keys.cats: pub, s.keys.draftCats(): drafts} {
					js, ok := m[slug]
					if !ok {
						continue
					}
					var c recipes.Category
					if err := json.Unmarshal([]byte(js), &c); err != nil {
						return nil, corrupt(key+" "+slug, err)
					}
					if c.Position == pos {
						continue
					}
					c.Position = pos
					b, err := json.Marshal(c)
					if err != nil {
						return nil, fmt.Errorf("catalog: encode category %s: %w", slug, err)
					}
					puts = append(puts, put{key, slug, pos, b})
				}
			}
			if len(puts) == 0 {
				return nil, errNoChange
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				for _, u := range puts {
					if u.key == s.keys.cats {
						s.queueCategory(ctx, p, u.slug, u.pos, u.b)
					} else {
						s.queueDraftCategory(ctx, p, u.slug, u.b)
					}
				}
			}, nil
		})
}
