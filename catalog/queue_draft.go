package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Drafts. Editors work on copies: a category or recipe that is new, or
// changed since it was published, has a draft under {p}:draft:... (see
// keys.go). [Store.Find] never reads those keys, so appliances only ever
// see what was published. Saving a draft changes nothing appliances see
// and does not bump the catalog version; publishing, moving, reordering and
// deleting do, through [Store.write], which also invalidates the caches of
// every instance.
//
// Moving a recipe is not a draft: its draft and its published copy move
// together, so both are always filed under the same category.
//
// The functions below are the one place that queues writes of drafts
// (except Sync's bulk writer, sync_drafts.go).

// queueDraft stamps r and queues storing it as a draft.
func (s *Store) queueDraft(r *recipes.Recipe) (queueFunc, error) {
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	id, cat := r.ID, r.Category
	return func(ctx context.Context, p redis.Pipeliner) { s.queueDraftRecipe(ctx, p, id, cat, b) }, nil
}

// queueDraftRecipe stores b as the draft of recipe id, filed under cat.
func (s *Store) queueDraftRecipe(ctx context.Context, p redis.Pipeliner, id, cat string, b []byte) {
	p.Set(ctx, s.keys.draftRcp(id), b, 0)
	p.HSet(ctx, s.keys.draftRcps(), id, cat)
}

// queueDraftRecipeRemoval drops the draft of recipe id.
func (s *Store) queueDraftRecipeRemoval(ctx context.Context, p redis.Pipeliner, id string) {
	p.Del(ctx, s.keys.draftRcp(id))
	p.HDel(ctx, s.keys.draftRcps(), id)
}

// queueDraftCategory stores b as the draft of category slug.
func (s *Store) queueDraftCategory(ctx context.Context, p redis.Pipeliner, slug string, b []byte) {
	p.HSet(ctx, s.keys.draftCats(), slug, b)
}

// queueDraftCategoryRemoval drops the draft of category slug.
func (s *Store) queueDraftCategoryRemoval(ctx context.Context, p redis.Pipeliner, slug string) {
	p.HDel(ctx, s.keys.draftCats(), slug)
}
