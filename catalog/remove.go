package catalog

import (
	"context"
	"maps"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Removals delete from the published catalog and the drafts at once;
// like publishing, they bump the catalog version.

// RemoveRecipe deletes a recipe, its published copy and its draft alike.
// It returns ENOTFOUND if there is no such recipe.
func (s *Store) RemoveRecipe(ctx context.Context, id string) error {
	return s.publishing(ctx, "delete recipe", 6, []string{s.keys.draftRcp(id), s.keys.rcp(id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			drafts, pubs, err := s.watchRecipe(ctx, tx, "delete recipe", id)
			if err != nil {
				return nil, err
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
	notes := make([]revNote, len(ids))
	for i, id := range ids {
		snap := drafts[i]
		if snap == nil {
			snap = pubs[i]
		}
		notes[i] = revNote{kind: revRecipe, id: id, action: recipes.RevDeleted, snap: snap, deleted: true}
	}
	return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) {
		for i, id := range ids {
			if drafts[i] != nil {
				s.queueDraftRecipeRemoval(ctx, p, id)
			}
			if old := olds[i]; old.category != "" {
				s.queueRecipeRemoval(ctx, p, id, old)
			}
		}
	}, nil, notes...)
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
			snap, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), slug))
			if err == nil && snap == nil {
				snap, err = s.edge.Bytes(op, tx.HGet(ctx, s.keys.cats, slug))
			}
			if err != nil {
				return nil, err
			}
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) {
				if recs != nil {
					recs(ctx, p)
				}
				s.queueCategoryRemoval(ctx, p, slug)
				s.queueDraftCategoryRemoval(ctx, p, slug)
			}, nil, revNote{kind: revCategory, id: slug, action: recipes.RevDeleted, snap: snap, deleted: true})
		})
	return n, err
}
