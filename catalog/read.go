package catalog

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The reads below serve admin, seed and tests. They always ask Redis, so
// an editor sees their own write at once whatever the cache holds.

// Category returns the category with the given slug, or ENOTFOUND.
func (s *Store) Category(ctx context.Context, slug string) (recipes.Category, error) {
	ctx, cancel := s.rt(ctx)
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

// Categories returns every category ordered by position, then slug.
func (s *Store) Categories(ctx context.Context) ([]recipes.Category, error) {
	items, err := s.readCategories(ctx)
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

// Recipe returns the recipe with the given id, or ENOTFOUND.
func (s *Store) Recipe(ctx context.Context, id string) (recipes.Recipe, error) {
	ctx, cancel := s.rt(ctx)
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
