package catalog

import (
	"context"
	"encoding/json"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Export returns the whole published catalog as one consistent snapshot:
// the categories by position, then slug, and the recipes grouped by
// category in that order, each category's in list order (case-folded
// title, then id). It reads with a few large commands and starts again if
// the catalog version changed meanwhile, so a write in progress elsewhere
// is either wholly in the result or not at all. It returns ECONFLICT if the
// catalog kept changing.
func (s *Store) Export(ctx context.Context) ([]recipes.Category, []recipes.Recipe, error) {
	for range redisconn.MaxAttempts {
		before, err := s.Version(ctx)
		if err != nil {
			return nil, nil, err
		}
		cats, recs, err := s.export(ctx)
		if err != nil {
			return nil, nil, err
		}
		after, err := s.Version(ctx)
		if err != nil {
			return nil, nil, err
		}
		if before == after {
			return cats, recs, nil
		}
	}
	return nil, nil, recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during export; try again")
}

func (s *Store) export(ctx context.Context) ([]recipes.Category, []recipes.Recipe, error) {
	cats, err := s.Categories(ctx)
	if err != nil {
		return nil, nil, err
	}
	lists := make([]*redis.StringSliceCmd, len(cats))
	rctx, cancel := s.edge.RT(ctx)
	_, err = s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for i, c := range cats {
			lists[i] = p.ZRange(rctx, s.keys.idx(c.Slug), 0, -1)
		}
		return nil
	})
	cancel()
	if err != nil {
		return nil, nil, storeErr("export", err)
	}
	var keys []string
	for _, l := range lists {
		for _, m := range l.Val() {
			if id, ok := idFromMember(m); ok {
				keys = append(keys, s.keys.rcp(id))
			}
		}
	}
	recs := make([]recipes.Recipe, 0, len(keys))
	for start := 0; start < len(keys); start += bulkChunk {
		chunk := keys[start:min(start+bulkChunk, len(keys))]
		rctx, cancel := s.edge.RT(ctx)
		vals, err := s.rdb.MGet(rctx, chunk...).Result()
		cancel()
		if err != nil {
			return nil, nil, storeErr("export", err)
		}
		for i, v := range vals {
			raw, ok := v.(string)
			if !ok {
				continue // an index entry without its recipe: not published
			}
			var r recipes.Recipe
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				return nil, nil, corrupt(chunk[i], err)
			}
			recs = append(recs, r)
		}
	}
	return cats, recs, nil
}
