package catalog

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// A sync publishes; it leaves editors' drafts (see draft.go) alone, but
// keeps them filed where editors can find them:
//
//   - a recipe the sync files under another category than its draft (it
//     moves it, or publishes an id an editor has a new draft for) takes
//     the draft along, as [Store.MoveRecipe] does;
//   - a category the sync prunes while drafts are filed under it stays, as
//     an unpublished draft category, so that no draft is left without one;
//   - a recipe the sync prunes keeps its draft, which becomes a new,
//     unpublished recipe for editors to publish or delete.

// carriedDrafts is what a sync must do to drafts.
type carriedDrafts struct {
	moves map[string][]byte // recipe id -> its draft, filed under the new category
	keep  map[string]string // pruned category slug -> JSON to keep as its draft
}

// planCarriedDrafts works out plan's changes to drafts under WATCH.
func (s *Store) planCarriedDrafts(ctx context.Context, tx *redis.Tx, plan *syncPlan) (carriedDrafts, error) {
	var d carriedDrafts
	filed, err := tx.HGetAll(ctx, s.keys.draftRcps()).Result() // recipe id -> category
	if err != nil {
		return d, storeErr("sync", err)
	}
	if len(filed) == 0 {
		return d, nil
	}
	var moved []string
	for _, ch := range plan.changes {
		if ch.Kind == "recipe" && ch.Op != recipes.ItemRemoved && filed[ch.ID] != "" && filed[ch.ID] != ch.Category {
			moved = append(moved, ch.ID)
		}
	}
	if len(moved) > 0 {
		d.moves = make(map[string][]byte, len(moved))
		keys := make([]string, len(moved))
		for i, id := range moved {
			keys[i] = s.keys.draftRcp(id)
		}
		// The drafts are rewritten, so a save meanwhile must abort the sync.
		if err := tx.Watch(ctx, keys...).Err(); err != nil {
			return d, storeErr("sync", err)
		}
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return d, storeErr("sync", err)
		}
		to := make(map[string]string, len(moved))
		for _, ch := range plan.changes {
			to[ch.ID] = ch.Category
		}
		for i, id := range moved {
			raw, ok := vals[i].(string)
			if !ok {
				continue
			}
			var r recipes.Recipe
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				return d, corrupt(keys[i], err)
			}
			r.Category = to[id]
			b, err := json.Marshal(r)
			if err != nil {
				return d, corrupt(keys[i], err)
			}
			d.moves[id] = b
		}
	}
	if len(plan.goneCats) > 0 {
		drafted, err := tx.HKeys(ctx, s.keys.draftCats()).Result()
		if err != nil {
			return d, storeErr("sync", err)
		}
		holding := make(map[string]bool)
		for _, slug := range filed {
			holding[slug] = true
		}
		for _, slug := range plan.goneCats {
			if holding[slug] && !slices.Contains(drafted, slug) {
				if d.keep == nil {
					d.keep = make(map[string]string)
				}
				d.keep[slug] = plan.storedCats[slug]
			}
		}
	}
	return d, nil
}

func (s *Store) queueCarriedDrafts(ctx context.Context, p redis.Pipeliner, d carriedDrafts, plan *syncPlan) {
	for _, ch := range plan.changes {
		if b, ok := d.moves[ch.ID]; ok && ch.Kind == "recipe" {
			p.Set(ctx, s.keys.draftRcp(ch.ID), b, 0)
			p.HSet(ctx, s.keys.draftRcps(), ch.ID, ch.Category)
		}
	}
	for slug, js := range d.keep {
		p.HSet(ctx, s.keys.draftCats(), slug, js)
	}
}
