package catalog

import (
	"context"
	"encoding/json"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The writes below save editors' drafts of recipes; appliances see none
// of them until a publish (publish.go).

// CreateRecipe saves r as a new, unpublished recipe. It returns the
// *recipes.ValidationError if r is invalid, its id is taken or its category
// does not exist.
func (s *Store) CreateRecipe(ctx context.Context, r recipes.Recipe) (recipes.Recipe, error) {
	if err := r.Validate(); err != nil {
		return r, err
	}
	// Its own keys (a second create of the id writes them) and its
	// category's removal counter; see write.go.
	err := s.update(ctx, "create recipe", []string{s.keys.draftRcp(r.ID), s.keys.rcp(r.ID), s.keys.catGen(r.Category), s.keys.settings()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "create recipe " + r.ID
			if err := s.checkTranslations(ctx, tx, "recipe", r.ID, recipeTags(&r)); err != nil {
				return nil, err
			}
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
			q, err := s.queueDraft(&r)
			return s.withRevisions(ctx, tx, q, err, revNote{kind: revRecipe, id: r.ID, action: recipes.RevCreated, recipe: &r, revived: true})
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
	err := s.update(ctx, "save recipe", []string{s.keys.draftRcp(r.ID), s.keys.rcp(r.ID), s.keys.settings()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "save recipe " + r.ID
			if err := s.checkTranslations(ctx, tx, "recipe", r.ID, recipeTags(&r)); err != nil {
				return nil, err
			}
			draft, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.draftRcp(r.ID)))
			if err != nil {
				return nil, err
			}
			pub, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.rcp(r.ID)))
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
			note := revNote{kind: revRecipe, id: r.ID, action: recipes.RevSaved, prev: cur}
			if sameContent(pub, r, clearRecipeTime) {
				_ = json.Unmarshal(pub, &r)
				note.snap = pub
				return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftRecipeRemoval(ctx, p, r.ID) }, nil, note)
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

// DiscardRecipe drops the unpublished changes of a published recipe. It
// returns ENOTFOUND if there is no such recipe and ECONFLICT if it was
// never published (delete it instead).
func (s *Store) DiscardRecipe(ctx context.Context, id string) error {
	return s.update(ctx, "discard recipe", []string{s.keys.draftRcp(id), s.keys.rcp(id)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			drafts, pubs, err := s.watchRecipes(ctx, tx, "discard recipe "+id, []string{id})
			if err != nil {
				return nil, err
			}
			draft, pub := drafts[0], pubs[0]
			switch {
			case draft == nil && pub == nil:
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			case pub == nil:
				return nil, recipes.Errorf(recipes.ECONFLICT, "recipe %q was never published, so there is nothing to go back to; delete it instead", id)
			case draft == nil:
				return nil, errNoChange
			}
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) { s.queueDraftRecipeRemoval(ctx, p, id) }, nil,
				revNote{kind: revRecipe, id: id, action: recipes.RevDiscarded, prev: draft, snap: pub})
		})
}
