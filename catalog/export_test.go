package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Conflicts returns how many of s's EXECs a concurrent write aborted.
func Conflicts(s *Store) int64 { return s.edge.Conflicts() }

// The methods below exist for the catalog's own tests, which set up and
// inspect published content directly, without the editors' draft and
// publish steps. The server never writes or reads this way.

// PutCategory creates or replaces a category. It returns the
// *recipes.ValidationError if c is invalid.
func (s *Store) PutCategory(ctx context.Context, c recipes.Category) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
	}
	return s.publishing(ctx, "put category", 3, []string{s.keys.cats}, func(context.Context, *redis.Tx) (queueFunc, error) {
		return func(ctx context.Context, p redis.Pipeliner) { s.queueCategory(ctx, p, c.Slug, c.Position, b) }, nil
	})
}

// DeleteCategory deletes an empty category. It returns ENOTFOUND if there
// is no such category and ECONFLICT while it still holds recipes.
func (s *Store) DeleteCategory(ctx context.Context, slug string) error {
	return s.publishing(ctx, "delete category", 5, []string{s.keys.cats, s.keys.idx(slug)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			exists, err := tx.HExists(ctx, s.keys.cats, slug).Result()
			if err != nil {
				return nil, storeErr("delete category "+slug, err)
			}
			if !exists {
				return nil, categoryNotFound(slug)
			}
			n, err := tx.ZCard(ctx, s.keys.idx(slug)).Result()
			if err != nil {
				return nil, storeErr("delete category "+slug, err)
			}
			if n > 0 {
				return nil, recipes.Errorf(recipes.ECONFLICT,
					"category %q still holds %d recipes; move or delete them first", slug, n)
			}
			return func(ctx context.Context, p redis.Pipeliner) { s.queueCategoryRemoval(ctx, p, slug) }, nil
		})
}

// PutRecipe creates or replaces a recipe. It returns the
// *recipes.ValidationError if r is invalid, and EINVALID naming the
// category if r.Category does not exist. Moving a recipe to another
// category updates both categories' lists.
func (s *Store) PutRecipe(ctx context.Context, r recipes.Recipe) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.UpdatedAt = time.Now().UTC()
	enc, err := encodeRecipe(&r)
	if err != nil {
		return err
	}
	return s.publishing(ctx, "put recipe", 6, []string{s.keys.rcp(r.ID), s.keys.catGen(r.Category)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			exists, err := tx.HExists(ctx, s.keys.cats, r.Category).Result()
			if err != nil {
				return nil, storeErr("put recipe "+r.ID, err)
			}
			if !exists {
				return nil, unknownCategory(r.ID, r.Category)
			}
			raw, err := tx.Get(ctx, s.keys.rcp(r.ID)).Bytes()
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, storeErr("put recipe "+r.ID, err)
			}
			old, err := s.placementOf(ctx, tx, r.ID, raw)
			if err != nil {
				return nil, err
			}
			return func(ctx context.Context, p redis.Pipeliner) { s.queueRecipe(ctx, p, enc, old) }, nil
		})
}

// DeleteRecipe deletes a recipe. It returns ENOTFOUND if there is none.
func (s *Store) DeleteRecipe(ctx context.Context, id string) error {
	return s.publishing(ctx, "delete recipe", 6, []string{s.keys.rcp(id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			raw, err := tx.Get(ctx, s.keys.rcp(id)).Bytes()
			if err != nil && !errors.Is(err, redis.Nil) {
				return nil, storeErr("delete recipe "+id, err)
			}
			old, err := s.placementOf(ctx, tx, id, raw)
			if err != nil {
				return nil, err
			}
			if old.category == "" {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			}
			return func(ctx context.Context, p redis.Pipeliner) { s.queueRecipeRemoval(ctx, p, id, old) }, nil
		})
}

// Category returns the category with the given slug, or ENOTFOUND.
func (s *Store) Category(ctx context.Context, slug string) (recipes.Category, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var c recipes.Category
	raw, err := s.rdb.HGet(ctx, s.keys.cats, slug).Bytes()
	if errors.Is(err, redis.Nil) {
		return c, categoryNotFound(slug)
	}
	if err != nil {
		return c, storeErr("get category "+slug, err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, corrupt(s.keys.cats+" "+slug, err)
	}
	return c, nil
}

// Recipe returns the recipe with the given id, or ENOTFOUND.
func (s *Store) Recipe(ctx context.Context, id string) (recipes.Recipe, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var r recipes.Recipe
	raw, err := s.rdb.Get(ctx, s.keys.rcp(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return r, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
	}
	if err != nil {
		return r, storeErr("get recipe "+id, err)
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, corrupt(s.keys.rcp(id), err)
	}
	return r, nil
}

// RecipesIn returns the summaries of a category's recipes in list order
// (case-folded title, then id), or ENOTFOUND if the category does not exist.
func (s *Store) RecipesIn(ctx context.Context, slug string) ([]recipes.Summary, error) {
	items, exists, err := s.readList(ctx, slug)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, categoryNotFound(slug)
	}
	sums := make([]recipes.Summary, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.json, &sums[i]); err != nil {
			return nil, corrupt(s.keys.sums(slug)+" "+it.key, err)
		}
	}
	return sums, nil
}
