package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// placement is where a stored recipe is listed; the zero value means it is
// not stored.
type placement struct {
	category, member string
	stored           recipes.Recipe // decoded, if it could be
}

// placementOf works out where the recipe stored as raw (nil: none) is
// listed. If raw cannot be decoded it falls back to the id->category hash
// and a scan of that category's index, so that a damaged recipe can still
// be overwritten or deleted.
func (s *Store) placementOf(ctx context.Context, tx *redis.Tx, id string, raw []byte) (placement, error) {
	var pl placement
	if raw == nil {
		return pl, nil
	}
	if err := json.Unmarshal(raw, &pl.stored); err == nil && pl.stored.Category != "" {
		pl.category, pl.member = pl.stored.Category, idxMember(pl.stored.Title, id)
		return pl, nil
	}
	pl.stored = recipes.Recipe{}
	cat, err := tx.HGet(ctx, s.keys.rcpcat, id).Result()
	if errors.Is(err, redis.Nil) {
		return pl, nil
	}
	if err != nil {
		return pl, storeErr("find recipe "+id, err)
	}
	members, err := tx.ZRange(ctx, s.keys.idx(cat), 0, -1).Result()
	if err != nil {
		return pl, storeErr("find recipe "+id, err)
	}
	pl.category = cat
	for _, m := range members {
		if strings.HasSuffix(m, "\x00"+id) {
			pl.member = m
		}
	}
	s.log.Warn("stored recipe is damaged; using its index entry", "id", id, "category", cat)
	return pl, nil
}
