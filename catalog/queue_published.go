package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The one place that queues writes of published content (the keys
// appliances read, see keys.go): a recipe's JSON, its id->category entry,
// its summary and its index member change together here, and so do a
// category's JSON, its position, its lists and its removal counter. The
// catalog version is bumped by the write loop alone ([Store.writeTx]).
// Sync's bulk writer (sync_write.go) queues the same keys in grouped
// commands for speed.

// encodedRecipe is a recipe ready to store.
type encodedRecipe struct {
	id, category, member string
	recipe, summary      []byte
}

func encodeRecipe(r *recipes.Recipe) (encodedRecipe, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return encodedRecipe{}, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	sb, err := json.Marshal(r.ToSummary())
	if err != nil {
		return encodedRecipe{}, fmt.Errorf("catalog: encode summary %s: %w", r.ID, err)
	}
	return encodedRecipe{id: r.ID, category: r.Category, member: idxMember(r.Title, r.ID), recipe: b, summary: sb}, nil
}

// queueRecipe stores e and removes what is left of its old placement.
func (s *Store) queueRecipe(ctx context.Context, p redis.Pipeliner, e encodedRecipe, old placement) {
	p.Set(ctx, s.keys.rcp(e.id), e.recipe, 0)
	p.HSet(ctx, s.keys.rcpcat, e.id, e.category)
	if old.category != "" && old.member != "" && (old.category != e.category || old.member != e.member) {
		p.ZRem(ctx, s.keys.idx(old.category), old.member)
	}
	if old.category != "" && old.category != e.category {
		p.HDel(ctx, s.keys.sums(old.category), e.id)
	}
	p.HSet(ctx, s.keys.sums(e.category), e.id, e.summary)
	p.ZAdd(ctx, s.keys.idx(e.category), redis.Z{Score: 0, Member: e.member})
}

// queueRecipeRemoval deletes the published recipe id, listed at old.
func (s *Store) queueRecipeRemoval(ctx context.Context, p redis.Pipeliner, id string, old placement) {
	p.Del(ctx, s.keys.rcp(id))
	p.HDel(ctx, s.keys.rcpcat, id)
	p.HDel(ctx, s.keys.sums(old.category), id)
	if old.member != "" {
		p.ZRem(ctx, s.keys.idx(old.category), old.member)
	}
}

// queueCategory stores the published category slug at position pos.
func (s *Store) queueCategory(ctx context.Context, p redis.Pipeliner, slug string, pos int, b []byte) {
	p.HSet(ctx, s.keys.cats, slug, b)
	p.ZAdd(ctx, s.keys.catorder, redis.Z{Score: float64(pos), Member: slug})
}

// queueCategoryRemoval deletes the published category slug and its lists,
// and bumps its removal counter, which recipe writes WATCH (see write.go).
func (s *Store) queueCategoryRemoval(ctx context.Context, p redis.Pipeliner, slug string) {
	p.HDel(ctx, s.keys.cats, slug)
	p.ZRem(ctx, s.keys.catorder, slug)
	p.Del(ctx, s.keys.sums(slug), s.keys.idx(slug))
	p.Incr(ctx, s.keys.catGen(slug))
}
