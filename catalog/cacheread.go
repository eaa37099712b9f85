package catalog

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/recipesd/recipesd/recipes"
	"github.com/redis/go-redis/v9"
)

// item is one stored JSON value with the hash field (slug or id) it was
// stored under and, for list items, its index member.
type item struct {
	key    string
	member string
	json   []byte
}

// readCategories returns every category's JSON by position, then slug,
// and the catalog's languages, in one MULTI/EXEC so that they agree.
func (s *Store) readCategories(ctx context.Context) ([]item, recipes.Languages, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var order *redis.StringSliceCmd
	var all *redis.MapStringStringCmd
	var settings *redis.SliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		order = p.ZRange(ctx, s.keys.catorder, 0, -1)
		all = p.HGetAll(ctx, s.keys.cats)
		settings = p.HMGet(ctx, s.keys.settings(), settingDefaultLanguage, settingLanguages)
		return nil
	})
	if err != nil {
		return nil, recipes.Languages{}, storeErr("read categories", err)
	}
	vals2 := settings.Val()
	langs := languagesFrom(vals2[0], vals2[1])
	vals := all.Val()
	items := make([]item, 0, len(vals))
	for _, slug := range order.Val() {
		if v, ok := vals[slug]; ok {
			items = append(items, item{key: slug, json: []byte(v)})
			delete(vals, slug)
		}
	}
	// Only a hand-edited store has categories missing from the order; show
	// them last rather than hide them.
	for _, slug := range slices.Sorted(maps.Keys(vals)) {
		items = append(items, item{key: slug, json: []byte(vals[slug])})
	}
	return items, langs, nil
}

// readList returns a category's summaries in list order and whether the
// category exists, in one MULTI/EXEC.
func (s *Store) readList(ctx context.Context, slug string) ([]item, bool, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var exists *redis.BoolCmd
	var order *redis.StringSliceCmd
	var all *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.HExists(ctx, s.keys.cats, slug)
		order = p.ZRange(ctx, s.keys.idx(slug), 0, -1)
		all = p.HGetAll(ctx, s.keys.sums(slug))
		return nil
	})
	if err != nil {
		return nil, false, storeErr("read category "+slug, err)
	}
	vals := all.Val()
	items := make([]item, 0, len(vals))
	for _, m := range order.Val() {
		id, ok := idFromMember(m)
		if !ok {
			return nil, false, corrupt(s.keys.idx(slug), errors.New("member without id"))
		}
		if v, ok := vals[id]; ok {
			items = append(items, item{key: id, member: m, json: []byte(v)})
		}
	}
	return items, exists.Val(), nil
}
