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
// The batch methods below are the writers of the draft key families, used
// by edits (one item, the Store methods at the end) and by Sync (many, in
// sync_as_drafts.go and sync_carry_drafts.go).

// putDraftRecipe stores js as the draft of recipe id, filed under cat.
func (b *batch) putDraftRecipe(id, cat string, js []byte) {
	b.add("mset", b.keys.draftRcp(id), js)
	b.add("hset", b.keys.draftRcps(), id, cat)
}

// dropDraftRecipe drops the draft of recipe id.
func (b *batch) dropDraftRecipe(id string) {
	b.add("del", b.keys.draftRcp(id))
	b.add("hdel", b.keys.draftRcps(), id)
}

// putDraftCategory stores js as the draft of category slug.
func (b *batch) putDraftCategory(slug string, js []byte) {
	b.add("hset", b.keys.draftCats(), slug, js)
}

// dropDraftCategory drops the draft of category slug.
func (b *batch) dropDraftCategory(slug string) {
	b.add("hdel", b.keys.draftCats(), slug)
}

// Edits' writes of drafts, one item each.

// queueDraft stamps r and queues storing it as a draft.
func (s *Store) queueDraft(r *recipes.Recipe) (queueFunc, error) {
	r.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	id, cat := r.ID, r.Category
	return func(ctx context.Context, p redis.Pipeliner) { s.queue(ctx, p).putDraftRecipe(id, cat, b) }, nil
}

func (s *Store) queueDraftRecipe(ctx context.Context, p redis.Pipeliner, id, cat string, js []byte) {
	s.queue(ctx, p).putDraftRecipe(id, cat, js)
}

func (s *Store) queueDraftRecipeRemoval(ctx context.Context, p redis.Pipeliner, id string) {
	s.queue(ctx, p).dropDraftRecipe(id)
}

func (s *Store) queueDraftCategory(ctx context.Context, p redis.Pipeliner, slug string, js []byte) {
	s.queue(ctx, p).putDraftCategory(slug, js)
}

func (s *Store) queueDraftCategoryRemoval(ctx context.Context, p redis.Pipeliner, slug string) {
	s.queue(ctx, p).dropDraftCategory(slug)
}
