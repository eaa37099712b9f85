package catalog

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// The writers of published content, the keys appliances read (see
// keys.go), one per key family: a recipe's JSON, its id->category entry,
// its summary and its index member change together in putRecipe and
// dropRecipe, and a category's JSON, its position, its lists and its
// removal counter in putCategory and dropCategory. Edits queue one item at
// a time (the Store methods at the end), Sync all of its items in one bulk
// batch (sync_write.go). The catalog version is bumped by the write loop
// alone ([Store.writeTx]).

// putRecipe stores e and removes what is left of its old placement.
func (b *batch) putRecipe(e encodedRecipe, old placement) {
	if old.category != "" {
		oldIdx, oldSums := b.catLists(old.category)
		if old.member != "" && (old.category != e.category || old.member != e.member) {
			b.add("zrem", oldIdx, old.member)
		}
		if old.category != e.category {
			b.add("hdel", oldSums, e.id)
		}
	}
	idx, sums := b.catLists(e.category)
	b.add("mset", b.keys.rcp(e.id), e.recipe)
	b.add("hset", b.keys.rcpcat, e.id, e.category)
	b.add("hset", sums, e.id, e.summary)
	b.add("zadd", idx, 0, e.member)
}

// dropRecipe deletes the published recipe id, listed at old.
func (b *batch) dropRecipe(id string, old placement) {
	b.add("del", b.keys.rcp(id))
	b.add("hdel", b.keys.rcpcat, id)
	if old.category != "" {
		idx, sums := b.catLists(old.category)
		b.add("hdel", sums, id)
		if old.member != "" {
			b.add("zrem", idx, old.member)
		}
	}
}

// putCategory stores js as the published category slug at position pos.
func (b *batch) putCategory(slug string, pos int, js []byte) {
	b.add("hset", b.keys.cats, slug, js)
	b.add("zadd", b.keys.catorder, pos, slug)
}

// dropCategory deletes the published category slug and its lists, and
// bumps its removal counter, which recipe writes WATCH (see write.go).
func (b *batch) dropCategory(slug string) {
	idx, sums := b.catLists(slug)
	b.add("hdel", b.keys.cats, slug)
	b.add("zrem", b.keys.catorder, slug)
	b.add("del", sums)
	b.add("del", idx)
	b.p.Incr(b.ctx, b.keys.catGen(slug))
}

// Edits' writes of published content, one item each.

func (s *Store) queueRecipe(ctx context.Context, p redis.Pipeliner, e encodedRecipe, old placement) {
	s.queue(ctx, p).putRecipe(e, old)
}

func (s *Store) queueRecipeRemoval(ctx context.Context, p redis.Pipeliner, id string, old placement) {
	s.queue(ctx, p).dropRecipe(id, old)
}

func (s *Store) queueCategory(ctx context.Context, p redis.Pipeliner, slug string, pos int, js []byte) {
	s.queue(ctx, p).putCategory(slug, pos, js)
}

func (s *Store) queueCategoryRemoval(ctx context.Context, p redis.Pipeliner, slug string) {
	s.queue(ctx, p).dropCategory(slug)
}
