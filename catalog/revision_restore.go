package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// RestoreRecipe saves the snapshot of revision n of recipe id as its
// draft, recorded as a new revision "restored" from n, and returns the
// editors' copy. The recipe stays in its current category (moving is
// [Store.MoveRecipe]); a deleted recipe is created again, unpublished, in
// the category of the snapshot, which must still exist. Restoring what the
// editors' copy already holds changes nothing. It returns ENOTFOUND if the
// revision is not kept, and the *recipes.ValidationError if the snapshot
// is not valid today or its category is gone.
func (s *Store) RestoreRecipe(ctx context.Context, id string, n int64) (recipes.Recipe, error) {
	var r recipes.Recipe
	err := s.update(ctx, "restore recipe", []string{s.keys.draftRcp(id), s.keys.rcp(id), s.keys.rev(revRecipe, id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "restore recipe " + id
			rev, err := s.readRevision(ctx, tx, revRecipe, id, n)
			if err != nil {
				return nil, err
			}
			if rev.Recipe == nil {
				return nil, corrupt(s.keys.rev(revRecipe, id), fmt.Errorf("revision %d has no recipe", n))
			}
			r = *rev.Recipe
			r.ID = id
			draft, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.draftRcp(id)))
			if err != nil {
				return nil, err
			}
			pub, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.rcp(id)))
			if err != nil {
				return nil, err
			}
			note := revNote{kind: revRecipe, id: id, action: recipes.RevRestored, from: n}
			cur := draft
			if cur == nil {
				cur = pub
			}
			if cur == nil {
				// Deleted: created again where it was, if that still exists.
				if err := tx.Watch(ctx, s.keys.catGen(r.Category)).Err(); err != nil {
					return nil, storeErr(op, err)
				}
				if ok, err := s.categoryExists(ctx, tx, r.Category); err != nil {
					return nil, err
				} else if !ok {
					return nil, fieldError("recipe", id, "category",
						"revision %d was in category %q, which no longer exists; create it (or restore it), then restore the recipe again", n, r.Category)
				}
				if err := r.Validate(); err != nil {
					return nil, err
				}
				if err := s.checkTranslations(ctx, tx, "recipe", r.ID, recipeTags(&r)); err != nil {
					return nil, err
				}
				q, err := s.queueDraft(&r)
				note.recipe, note.revived = &r, true
				return s.withRevisions(ctx, tx, q, err, note)
			}
			cr, err := decodeRecipe(cur, s.keys.draftRcp(id))
			if err != nil {
				return nil, err
			}
			r.Category = cr.Category
			if err := r.Validate(); err != nil {
				return nil, err
			}
			// An old revision may hold a translation to a language the
			// catalog has dropped since: restoring it says so, as a save
			// would.
			if err := s.checkTranslations(ctx, tx, "recipe", r.ID, recipeTags(&r)); err != nil {
				return nil, err
			}
			note.prev = cur
			if sameContent(pub, r, clearRecipeTime) {
				_ = json.Unmarshal(pub, &r)
				if draft == nil {
					return nil, errNoChange
				}
				note.snap = pub
				return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftRecipeRemoval(ctx, p, id) }, nil, note)
			}
			if sameContent(draft, r, clearRecipeTime) {
				_ = json.Unmarshal(draft, &r)
				return nil, errNoChange
			}
			q, err := s.queueDraft(&r)
			note.recipe = &r
			return s.withRevisions(ctx, tx, q, err, note)
		})
	return r, err
}
