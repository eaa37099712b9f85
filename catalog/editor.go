package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The writes below save editors' drafts; appliances see none of them until
// a publish (publish.go).

// CreateCategory saves c as a new, unpublished category placed after all
// others (c.Position is ignored) and returns it as stored. It returns the
// *recipes.ValidationError if c is invalid or its slug is taken.
func (s *Store) CreateCategory(ctx context.Context, c recipes.Category) (recipes.Category, error) {
	c.Position = 0
	if err := c.Validate(); err != nil {
		return c, err
	}
	err := s.update(ctx, "create category", []string{s.keys.cats, s.keys.draftCats()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			all, err := s.allCategories(ctx, tx)
			if err != nil {
				return nil, err
			}
			if _, ok := all[c.Slug]; ok {
				return nil, fieldError("category", c.Slug, "slug", "%q is already taken by another category", c.Slug)
			}
			c.Position = 0
			for _, o := range all {
				c.Position = max(c.Position, o.Position+10)
			}
			c.UpdatedAt = time.Now().UTC()
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
			}
			return func(ctx context.Context, p redis.Pipeliner) { p.HSet(ctx, s.keys.draftCats(), c.Slug, b) }, nil
		})
	return c, err
}

// allCategories returns the editors' copy of every category, by slug.
func (s *Store) allCategories(ctx context.Context, tx *redis.Tx) (map[string]recipes.Category, error) {
	pub, err := tx.HGetAll(ctx, s.keys.cats).Result()
	if err != nil {
		return nil, storeErr("read categories", err)
	}
	drafts, err := tx.HGetAll(ctx, s.keys.draftCats()).Result()
	if err != nil {
		return nil, storeErr("read categories", err)
	}
	all := make(map[string]recipes.Category, len(pub)+len(drafts))
	for key, m := range map[string]map[string]string{s.keys.cats: pub, s.keys.draftCats(): drafts} {
		for slug, js := range m {
			var c recipes.Category
			if err := json.Unmarshal([]byte(js), &c); err != nil {
				return nil, corrupt(key+" "+slug, err)
			}
			if _, ok := all[slug]; !ok || key == s.keys.draftCats() {
				all[slug] = c
			}
		}
	}
	return all, nil
}

// UpdateCategory changes a category's name or description in its draft and
// returns the editors' copy. An update that makes the copy equal to the
// published category drops the draft. It returns ENOTFOUND if there is no
// such category and the *recipes.ValidationError if the result is invalid.
func (s *Store) UpdateCategory(ctx context.Context, slug string, u recipes.CategoryUpdate) (recipes.Category, error) {
	var c recipes.Category
	err := s.update(ctx, "update category", []string{s.keys.cats, s.keys.draftCats()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "update category " + slug
			pub, err := hgetBytes(ctx, tx, op, s.keys.cats, slug)
			if err != nil {
				return nil, err
			}
			draft, err := hgetBytes(ctx, tx, op, s.keys.draftCats(), slug)
			if err != nil {
				return nil, err
			}
			key, raw := s.keys.draftCats(), draft
			if raw == nil {
				key, raw = s.keys.cats, pub
			}
			if raw == nil {
				return nil, categoryNotFound(slug)
			}
			c = recipes.Category{}
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, corrupt(key+" "+slug, err)
			}
			if u.Name != nil {
				c.Name = *u.Name
			}
			if u.Description != nil {
				c.Description = *u.Description
			}
			if err := c.Validate(); err != nil {
				return nil, err
			}
			if sameContent(pub, c, clearCategoryTime) {
				_ = json.Unmarshal(pub, &c)
				return func(ctx context.Context, p redis.Pipeliner) { p.HDel(ctx, s.keys.draftCats(), slug) }, nil
			}
			if sameContent(draft, c, clearCategoryTime) {
				return nil, errNoChange
			}
			c.UpdatedAt = time.Now().UTC()
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("catalog: encode category %s: %w", slug, err)
			}
			return func(ctx context.Context, p redis.Pipeliner) { p.HSet(ctx, s.keys.draftCats(), slug, b) }, nil
		})
	return c, err
}

// CreateRecipe saves r as a new, unpublished recipe. It returns the
// *recipes.ValidationError if r is invalid, its id is taken or its category
// does not exist.
func (s *Store) CreateRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	// Its own keys (a second create of the id writes them) and its
	// category's removal counter; see write.go.
	err := s.update(ctx, "create recipe", []string{s.keys.draftRcp(r.ID), s.keys.rcp(r.ID), s.keys.catGen(r.Category)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "create recipe " + r.ID
			if ok, err := s.categoryExists(ctx, tx, r.Category); err != nil {
				return nil, err
			} else if !ok {
				return nil, fieldError("recipe", r.ID, "category", "%q does not exist", r.Category)
			}
			for _, key := range []string{s.keys.rcpcat, s.keys.draftRcps()} {
				taken, err := tx.HExists(ctx, key, r.ID).Result()
				if err != nil {
					return nil, storeErr(op, err)
				}
				if taken {
					return nil, fieldError("recipe", r.ID, "id", "%q is already taken by another recipe", r.ID)
				}
			}
			return s.queueDraft(&r)
		})
	return r, err
}

// SaveRecipe saves the editors' copy of an existing recipe as its draft.
// Saving a copy equal to the published recipe drops the draft. It returns
// ENOTFOUND if there is no such recipe and the *recipes.ValidationError if
// r is invalid or names another category (moving is [Store.MoveRecipe]).
func (s *Store) SaveRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	err := s.update(ctx, "save recipe", []string{s.keys.draftRcp(r.ID), s.keys.rcp(r.ID)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "save recipe " + r.ID
			draft, err := getBytes(ctx, tx, op, s.keys.draftRcp(r.ID))
			if err != nil {
				return nil, err
			}
			pub, err := getBytes(ctx, tx, op, s.keys.rcp(r.ID))
			if err != nil {
				return nil, err
			}
			cur := draft
			if cur == nil {
				cur = pub
			}
			if cur == nil {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", r.ID)
			}
			var head struct{ Category string }
			if err := json.Unmarshal(cur, &head); err != nil {
				return nil, corrupt(s.keys.rcp(r.ID), err)
			}
			if head.Category != r.Category {
				return nil, fieldError("recipe", r.ID, "category", "cannot change from %q here; move the recipe instead", head.Category)
			}
			if sameContent(pub, r, clearRecipeTime) {
				_ = json.Unmarshal(pub, &r)
				return func(ctx context.Context, p redis.Pipeliner) {
					p.Del(ctx, s.keys.draftRcp(r.ID))
					p.HDel(ctx, s.keys.draftRcps(), r.ID)
				}, nil
			}
			if sameContent(draft, r, clearRecipeTime) {
				_ = json.Unmarshal(draft, &r)
				return nil, errNoChange
			}
			return s.queueDraft(&r)
		})
	return r, err
}

// queueDraft stamps r and queues storing it as a draft.
func (s *Store) queueDraft(r *recipes.Recipe) (queueFunc, error) {
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	id, cat := r.ID, r.Category
	return func(ctx context.Context, p redis.Pipeliner) {
		p.Set(ctx, s.keys.draftRcp(id), b, 0)
		p.HSet(ctx, s.keys.draftRcps(), id, cat)
	}, nil
}

// DiscardRecipe drops the unpublished changes of a published recipe. It
// returns ENOTFOUND if there is no such recipe and ECONFLICT if it was
// never published (delete it instead).
func (s *Store) DiscardRecipe(ctx context.Context, id string) error {
	return s.update(ctx, "discard recipe", []string{s.keys.draftRcp(id), s.keys.rcp(id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			n, err := tx.Exists(ctx, s.keys.draftRcp(id), s.keys.rcp(id)).Result()
			if err != nil {
				return nil, storeErr("discard recipe "+id, err)
			}
			pub, err := tx.Exists(ctx, s.keys.rcp(id)).Result()
			if err != nil {
				return nil, storeErr("discard recipe "+id, err)
			}
			switch {
			case n == 0:
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			case pub == 0:
				return nil, recipes.Errorf(recipes.ECONFLICT, "recipe %q was never published, so there is nothing to go back to; delete it instead", id)
			case n == 1:
				return nil, errNoChange
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.Del(ctx, s.keys.draftRcp(id))
				p.HDel(ctx, s.keys.draftRcps(), id)
			}, nil
		})
}

// categoryExists reports whether slug is a category, published or not.
// It reads the drafts first: publishing moves a category from there to the
// published hash in one MULTI, so a publish between the two reads cannot
// hide it (see write.go).
func (s *Store) categoryExists(ctx context.Context, tx *redis.Tx, slug string) (bool, error) {
	for _, key := range []string{s.keys.draftCats(), s.keys.cats} {
		ok, err := tx.HExists(ctx, key, slug).Result()
		if err != nil {
			return false, storeErr("find category "+slug, err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}
