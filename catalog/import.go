package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Import upserts categories and recipes all at once: it validates every
// item first and then writes them in one MULTI/EXEC, so a bad item writes
// nothing and the version bumps once. Recipes may refer to categories in
// cats or already stored. Items whose content is unchanged keep their
// UpdatedAt, so re-importing the same catalog keeps every ETag.
//
// Import returns the *recipes.ValidationError of an invalid item (several
// joined with [errors.Join]), or EINVALID for a duplicate or a recipe whose
// category exists nowhere.
func (s *Store) Import(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe) error {
	if err := validateImport(cats, recs); err != nil {
		return err
	}
	if len(cats) == 0 && len(recs) == 0 {
		return nil
	}
	slugs := make([]string, 0, len(cats))
	imported := make(map[string]bool, len(cats))
	listed := make(map[string]bool, len(cats))
	for _, c := range cats {
		slugs = append(slugs, c.Slug)
		imported[c.Slug], listed[c.Slug] = true, true
	}
	watch := []string{s.keys.cats, s.keys.rcpcat}
	rcpKeys := make([]string, 0, len(recs))
	for _, r := range recs {
		rcpKeys = append(rcpKeys, s.keys.rcp(r.ID))
		if !listed[r.Category] {
			slugs = append(slugs, r.Category)
			listed[r.Category] = true
		}
	}
	watch = append(watch, rcpKeys...)
	now := time.Now().UTC()

	return s.write(ctx, "import", 10+len(recs)/200, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		oldCats, err := tx.HMGet(ctx, s.keys.cats, slugs...).Result()
		if err != nil {
			return nil, storeErr("import", err)
		}
		stored := make(map[string][]byte, len(slugs))
		for i, v := range oldCats {
			if v, ok := v.(string); ok {
				stored[slugs[i]] = []byte(v)
			}
		}
		var oldRecs []any
		if len(rcpKeys) > 0 {
			if oldRecs, err = tx.MGet(ctx, rcpKeys...).Result(); err != nil {
				return nil, storeErr("import", err)
			}
		}
		catJSON := make([][]byte, len(cats))
		for i, c := range cats {
			if catJSON[i], err = encodeCategoryAt(c, stored[c.Slug], now); err != nil {
				return nil, err
			}
		}
		encs := make([]encodedRecipe, len(recs))
		olds := make([]placement, len(recs))
		for i, r := range recs {
			if _, ok := stored[r.Category]; !ok && !imported[r.Category] {
				return nil, unknownCategory(r.ID, r.Category)
			}
			var raw []byte
			if v, ok := oldRecs[i].(string); ok {
				raw = []byte(v)
			}
			if olds[i], err = s.placementOf(ctx, tx, r.ID, raw); err != nil {
				return nil, err
			}
			if encs[i], err = encodeRecipeAt(r, olds[i].stored.UpdatedAt, raw, now); err != nil {
				return nil, err
			}
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			for i, c := range cats {
				s.queueCategory(ctx, p, c.Slug, c.Position, catJSON[i])
			}
			for i := range encs {
				s.queueRecipe(ctx, p, encs[i], olds[i])
			}
		}, nil
	})
}

// encodeCategoryAt encodes c with the UpdatedAt of its stored version old
// if nothing else changed, and with now otherwise.
func encodeCategoryAt(c recipes.Category, old []byte, now time.Time) ([]byte, error) {
	var prev recipes.Category
	if old != nil && json.Unmarshal(old, &prev) == nil {
		c.UpdatedAt = prev.UpdatedAt
		if b, err := json.Marshal(c); err == nil && bytes.Equal(b, old) {
			return b, nil
		}
	}
	c.UpdatedAt = now
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
	}
	return b, nil
}

// encodeRecipeAt is [encodeCategoryAt] for recipes.
func encodeRecipeAt(r recipes.Recipe, prev time.Time, old []byte, now time.Time) (encodedRecipe, error) {
	if old != nil && !prev.IsZero() {
		r.UpdatedAt = prev
		if e, err := encodeRecipe(&r); err == nil && bytes.Equal(e.recipe, old) {
			return e, nil
		}
	}
	r.UpdatedAt = now
	return encodeRecipe(&r)
}

func validateImport(cats []recipes.Category, recs []recipes.Recipe) error {
	var errs []error
	seen := make(map[string]bool, len(cats)+len(recs))
	for _, c := range cats {
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
		} else if seen["c:"+c.Slug] {
			errs = append(errs, recipes.Errorf(recipes.EINVALID, "category %q appears twice", c.Slug))
		}
		seen["c:"+c.Slug] = true
	}
	for _, r := range recs {
		if err := r.Validate(); err != nil {
			errs = append(errs, err)
		} else if seen["r:"+r.ID] {
			errs = append(errs, recipes.Errorf(recipes.EINVALID, "recipe %q appears twice", r.ID))
		}
		seen["r:"+r.ID] = true
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}
