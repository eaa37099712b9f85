package catalog

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// A sync publishes; it leaves editors' drafts (see queue_draft.go) alone, but
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
	moves []movedDraft
	keep  map[string]string // pruned category slug -> JSON to keep as its draft
	filed map[string]string // recipe id -> category of each draft
}

// movedDraft is the draft of recipe id, filed under the recipe's new
// category.
type movedDraft struct {
	id, category string
	js           []byte
}

// planCarriedDrafts works out plan's changes to drafts under WATCH.
func (s *Store) planCarriedDrafts(ctx context.Context, tx *redis.Tx, plan *syncPlan) (carriedDrafts, error) {
	var d carriedDrafts
	filed, err := tx.HGetAll(ctx, s.keys.draftRcps()).Result() // recipe id -> category
	if err != nil {
		return d, storeErr("sync", err)
	}
	d.filed = filed
	if len(filed) == 0 {
		return d, nil
	}
	var moved []recipes.Change // recipes filed under another category than their draft
	for _, ch := range plan.changes {
		if ch.Kind == "recipe" && ch.Op != recipes.ItemRemoved && filed[ch.ID] != "" && filed[ch.ID] != ch.Category {
			moved = append(moved, ch)
		}
	}
	if len(moved) > 0 {
		// The drafts are rewritten, so a save meanwhile must abort the sync.
		err := mgetEach(ctx, tx, "sync", true, len(moved), func(i int) string { return s.keys.draftRcp(moved[i].ID) }, func(i int, raw *string) error {
			if raw == nil {
				return nil
			}
			key := s.keys.draftRcp(moved[i].ID)
			var r recipes.Recipe
			if err := json.Unmarshal([]byte(*raw), &r); err != nil {
				return corrupt(key, err)
			}
			r.Category = moved[i].Category
			b, err := json.Marshal(r)
			if err != nil {
				return corrupt(key, err)
			}
			d.moves = append(d.moves, movedDraft{moved[i].ID, moved[i].Category, b})
			return nil
		})
		if err != nil {
			return d, err
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

// queueCarriedDrafts queues d into the bulk batch b.
func queueCarriedDrafts(b *batch, d carriedDrafts) {
	for _, m := range d.moves {
		b.putDraftRecipe(m.id, m.category, m.js)
	}
	for slug, js := range d.keep {
		b.putDraftCategory(slug, []byte(js))
	}
}
