package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Moves, deletes and reorders apply to the published catalog and the
// drafts at once; like publishing, they bump the catalog version.

// MoveRecipe files a recipe, its published copy and its draft alike, under
// another category at once. It returns ENOTFOUND if there is no such
// recipe, the *recipes.ValidationError if the category does not exist, and
// ECONFLICT when a published recipe would move into a category appliances
// cannot see yet.
func (s *Store) MoveRecipe(ctx context.Context, id, to string) error {
	return s.publishing(ctx, "move recipe", 6,
		[]string{s.keys.draftRcp(id), s.keys.rcp(id), s.keys.catGen(to)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			drafts, pubs, err := s.watchRecipes(ctx, tx, "move recipe "+id, []string{id})
			if err != nil {
				return nil, err
			}
			if drafts[0] == nil && pubs[0] == nil {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			}
			return s.prepareMoves(ctx, tx, "", to, []string{id}, drafts, pubs)
		})
}

// prepareMoves returns the commands that file the recipes ids (with their
// draft and published JSON) under category to. from, if not empty, is
// the category they leave, which must differ from to. It returns nil
// commands when nothing would change.
func (s *Store) prepareMoves(ctx context.Context, tx *redis.Tx, from, to string, ids []string, drafts, pubs [][]byte) (queueFunc, error) {
	// Drafts first, as in categoryExists.
	draftTarget, err := tx.HExists(ctx, s.keys.draftCats(), to).Result()
	if err != nil {
		return nil, storeErr("move recipes", err)
	}
	pubTarget, err := tx.HExists(ctx, s.keys.cats, to).Result()
	if err != nil {
		return nil, storeErr("move recipes", err)
	}
	kind, id := "recipe", ""
	if from != "" {
		kind, id = "category", from
	} else if len(ids) == 1 {
		id = ids[0]
	}
	switch {
	case to == "":
		return nil, fieldError(kind, id, "move_to", "choose the category to move to")
	case to == from:
		return nil, fieldError(kind, id, "move_to", "must be another category than %q", from)
	case !pubTarget && !draftTarget:
		return nil, fieldError(kind, id, "move_to", "category %q does not exist", to)
	}
	now := time.Now().UTC()
	var moves []encodedRecipe
	var olds []placement
	type draftMove struct {
		id string
		b  []byte
	}
	var draftMoves []draftMove
	for i, rid := range ids {
		if pubs[i] != nil {
			r, err := decodeRecipe(pubs[i], s.keys.rcp(rid))
			if err != nil {
				return nil, err
			}
			if r.Category != to {
				if !pubTarget {
					return nil, recipes.Errorf(recipes.ECONFLICT,
						"category %q is not published yet; publish it before moving the published recipe %q into it", to, rid)
				}
				old, err := s.placementOf(ctx, tx, rid, pubs[i])
				if err != nil {
					return nil, err
				}
				r.Category, r.UpdatedAt = to, now
				enc, err := encodeRecipe(&r)
				if err != nil {
					return nil, err
				}
				moves, olds = append(moves, enc), append(olds, old)
			}
		}
		if drafts[i] != nil {
			r, err := decodeRecipe(drafts[i], s.keys.draftRcp(rid))
			if err != nil {
				return nil, err
			}
			if r.Category != to {
				r.Category = to
				b, err := json.Marshal(r)
				if err != nil {
					return nil, fmt.Errorf("catalog: encode recipe %s: %w", rid, err)
				}
				draftMoves = append(draftMoves, draftMove{rid, b})
			}
		}
	}
	if len(moves) == 0 && len(draftMoves) == 0 {
		return nil, errNoChange
	}
	return func(ctx context.Context, p redis.Pipeliner) {
		for i := range moves {
			s.queueRecipe(ctx, p, moves[i], olds[i])
		}
		for _, d := range draftMoves {
			p.Set(ctx, s.keys.draftRcp(d.id), d.b, 0)
			p.HSet(ctx, s.keys.draftRcps(), d.id, to)
		}
	}, nil
}

func decodeRecipe(raw []byte, key string) (recipes.Recipe, error) {
	var r recipes.Recipe
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, corrupt(key, err)
	}
	return r, nil
}

// RemoveRecipe deletes a recipe, its published copy and its draft alike.
// It returns ENOTFOUND if there is no such recipe.
func (s *Store) RemoveRecipe(ctx context.Context, id string) error {
	return s.publishing(ctx, "delete recipe", 6, []string{s.keys.draftRcp(id), s.keys.rcp(id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			drafts, pubs, err := s.watchRecipes(ctx, tx, "delete recipe "+id, []string{id})
			if err != nil {
				return nil, err
			}
			if drafts[0] == nil && pubs[0] == nil {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			}
			return s.prepareDeletes(ctx, tx, []string{id}, drafts, pubs)
		})
}

func (s *Store) prepareDeletes(ctx context.Context, tx *redis.Tx, ids []string, drafts, pubs [][]byte) (queueFunc, error) {
	olds := make([]placement, len(ids))
	for i, id := range ids {
		if pubs[i] != nil {
			var err error
			if olds[i], err = s.placementOf(ctx, tx, id, pubs[i]); err != nil {
				return nil, err
			}
		}
	}
	return func(ctx context.Context, p redis.Pipeliner) {
		for i, id := range ids {
			if drafts[i] != nil {
				p.Del(ctx, s.keys.draftRcp(id))
				p.HDel(ctx, s.keys.draftRcps(), id)
			}
			if old := olds[i]; old.category != "" {
				p.Del(ctx, s.keys.rcp(id))
				p.HDel(ctx, s.keys.rcpcat, id)
				p.HDel(ctx, s.keys.sums(old.category), id)
				if old.member != "" {
					p.ZRem(ctx, s.keys.idx(old.category), old.member)
				}
			}
		}
	}, nil
}

// RemoveCategory deletes a category, published or not. A category that
// holds recipes is refused with ECONFLICT unless how moves them to another
// category or deletes them too. It returns how many recipes it moved or
// deleted, ENOTFOUND if there is no such category, and the
// *recipes.ValidationError for a bad move target.
func (s *Store) RemoveCategory(ctx context.Context, slug string, how recipes.CategoryRemoval) (int, error) {
	var n int
	err := s.publishing(ctx, "delete category", 10,
		[]string{s.keys.cats, s.keys.draftCats(), s.keys.draftRcps(), s.keys.rcpcat, s.keys.sums(slug), s.keys.idx(slug)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "delete category " + slug
			if ok, err := s.categoryExists(ctx, tx, slug); err != nil {
				return nil, err
			} else if !ok {
				return nil, categoryNotFound(slug)
			}
			pubIDs, err := tx.HKeys(ctx, s.keys.sums(slug)).Result()
			if err != nil {
				return nil, storeErr(op, err)
			}
			draftIDs, err := s.draftsIn(ctx, tx, slug)
			if err != nil {
				return nil, err
			}
			set := map[string]bool{}
			for _, id := range append(pubIDs, draftIDs...) {
				set[id] = true
			}
			ids := slices.Sorted(maps.Keys(set))
			n = len(ids)
			var recs queueFunc
			switch {
			case n > 0 && how.MoveTo != "":
				drafts, pubs, err := s.watchRecipes(ctx, tx, op, ids)
				if err != nil {
					return nil, err
				}
				if recs, err = s.prepareMoves(ctx, tx, slug, how.MoveTo, ids, drafts, pubs); err != nil {
					return nil, err
				}
			case n > 0 && how.DeleteRecipes:
				drafts, pubs, err := s.watchRecipes(ctx, tx, op, ids)
				if err != nil {
					return nil, err
				}
				if recs, err = s.prepareDeletes(ctx, tx, ids, drafts, pubs); err != nil {
					return nil, err
				}
			case n > 0:
				return nil, recipes.Errorf(recipes.ECONFLICT,
					"category %q still holds %d recipes; move them to another category or delete them with it", slug, n)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				if recs != nil {
					recs(ctx, p)
				}
				p.HDel(ctx, s.keys.cats, slug)
				p.ZRem(ctx, s.keys.catorder, slug)
				p.HDel(ctx, s.keys.draftCats(), slug)
				p.Del(ctx, s.keys.sums(slug), s.keys.idx(slug))
				p.Incr(ctx, s.keys.catGen(slug))
			}, nil
		})
	return n, err
}

// ReorderCategories sets the order of all categories, published or not:
// slugs must name each of them exactly once. Published categories take
// their new place at once; it returns EINVALID for a list that does not
// match the catalog.
func (s *Store) ReorderCategories(ctx context.Context, slugs []string) error {
	return s.publishing(ctx, "reorder categories", 5, []string{s.keys.cats, s.keys.draftCats()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			pub, err := tx.HGetAll(ctx, s.keys.cats).Result()
			if err != nil {
				return nil, storeErr("reorder categories", err)
			}
			drafts, err := tx.HGetAll(ctx, s.keys.draftCats()).Result()
			if err != nil {
				return nil, storeErr("reorder categories", err)
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
						p.HSet(ctx, u.key, u.slug, u.b)
					}
				}
			}, nil
		})
}
