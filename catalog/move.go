package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// A move applies to the published catalog and the drafts at once; like
// publishing, it bumps the catalog version.

// MoveRecipe files a recipe, its published copy and its draft alike, under
// another category at once. It returns ENOTFOUND if there is no such
// recipe, the *recipes.ValidationError if the category does not exist, and
// ECONFLICT when a published recipe would move into a category appliances
// cannot see yet.
func (s *Store) MoveRecipe(ctx context.Context, id, to string) error {
	return s.publishing(ctx, "move recipe", 6,
		[]string{s.keys.draftRcp(id), s.keys.rcp(id), s.keys.catGen(to)},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			drafts, pubs, err := s.watchRecipe(ctx, tx, "move recipe", id)
			if err != nil {
				return nil, err
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
	var notes []revNote
	for i, rid := range ids {
		// The editors' copy is the draft if there is one.
		note := revNote{kind: revRecipe, id: rid, action: recipes.RevMoved, changed: []string{"category"}}
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
				note.snap = enc.recipe
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
				note.snap = b
			} else if pubs[i] != nil {
				note.snap = nil // the published copy moved under an unmoved draft: the editors' copy stays
			}
		}
		if note.snap != nil {
			notes = append(notes, note)
		}
	}
	if len(moves) == 0 && len(draftMoves) == 0 {
		return nil, errNoChange
	}
	return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) {
		for i := range moves {
			s.queueRecipe(ctx, p, moves[i], olds[i])
		}
		for _, d := range draftMoves {
			s.queueDraftRecipe(ctx, p, d.id, to, d.b)
		}
	}, nil, notes...)
}

func decodeRecipe(raw []byte, key string) (recipes.Recipe, error) {
	var r recipes.Recipe
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, corrupt(key, err)
	}
	return r, nil
}
