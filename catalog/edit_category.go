package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The writes below save editors' drafts of categories; appliances see
// none of them until a publish (publish.go).

// CreateCategory saves c as a new, unpublished category placed after all
// others (c.Position is ignored) and returns it as stored. It returns the
// *recipes.ValidationError if c is invalid or its slug is taken.
func (s *Store) CreateCategory(ctx context.Context, c recipes.Category) (recipes.Category, error) {
	c.Position = 0
	if err := c.Validate(); err != nil {
		return c, err
	}
	err := s.update(ctx, "create category", []string{s.keys.cats, s.keys.draftCats(), s.keys.settings()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			if err := s.checkTranslations(ctx, tx, "category", c.Slug, categoryTags(&c)); err != nil {
				return nil, err
			}
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
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftCategory(ctx, p, c.Slug, b) }, nil,
				revNote{kind: revCategory, id: c.Slug, action: recipes.RevCreated, snap: b, revived: true})
		})
	return c, err
}

// categoryJSON reads both copies of every category in tx: the published
// and the draft JSON, by slug.
func (s *Store) categoryJSON(ctx context.Context, tx *redis.Tx, op string) (pub, drafts map[string]string, err error) {
	if pub, err = tx.HGetAll(ctx, s.keys.cats).Result(); err != nil {
		return nil, nil, storeErr(op, err)
	}
	if drafts, err = tx.HGetAll(ctx, s.keys.draftCats()).Result(); err != nil {
		return nil, nil, storeErr(op, err)
	}
	return pub, drafts, nil
}

// allCategories returns the editors' copy of every category, by slug.
func (s *Store) allCategories(ctx context.Context, tx *redis.Tx) (map[string]recipes.Category, error) {
	pub, drafts, err := s.categoryJSON(ctx, tx, "read categories")
	if err != nil {
		return nil, err
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
	err := s.update(ctx, "update category", []string{s.keys.cats, s.keys.draftCats(), s.keys.settings()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "update category " + slug
			pub, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.cats, slug))
			if err != nil {
				return nil, err
			}
			draft, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), slug))
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
			before := c.Translations
			if u.Name != nil {
				c.Name = *u.Name
			}
			if u.Description != nil {
				c.Description = *u.Description
			}
			if err := c.Validate(); err != nil {
				return nil, err
			}
			// Only translations this update writes are checked: one to a
			// language the catalog has dropped since must not stop an
			// editor from renaming the category.
			if err := s.checkTranslations(ctx, tx, "category", slug, changedTags(before, c.Translations)); err != nil {
				return nil, err
			}
			note := revNote{kind: revCategory, id: slug, action: recipes.RevSaved, prev: raw}
			if sameContent(pub, c, clearCategoryTime) {
				_ = json.Unmarshal(pub, &c)
				note.snap = pub
				return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftCategoryRemoval(ctx, p, slug) }, nil, note)
			}
			if sameContent(draft, c, clearCategoryTime) {
				return nil, errNoChange
			}
			c.UpdatedAt = time.Now().UTC()
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("catalog: encode category %s: %w", slug, err)
			}
			note.snap = b
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftCategory(ctx, p, slug, b) }, nil, note)
		})
	return c, err
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
