package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Loaders fill the generation they were given (see [generation]). They run
// on a context detached from the asking caller, so that a caller who gives
// up does not fail the others waiting on the same load; the store's
// timeout still bounds them.

func (s *Store) cachedCategories(ctx context.Context, g *generation) (*catState, error) {
	if cs := g.cats.Load(); cs != nil {
		return cs, nil
	}
	return share(ctx, g, "cats", func() (*catState, error) {
		if cs := g.cats.Load(); cs != nil {
			return cs, nil
		}
		items, err := s.readCategories(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		cs := &catState{known: make(map[string]struct{}, len(items))}
		data := []byte(`{"items":[`)
		for i, it := range items {
			var c recipes.Category
			if err := json.Unmarshal(it.json, &c); err != nil {
				return nil, corrupt(s.keys.cats+" "+it.key, err)
			}
			cs.known[it.key] = struct{}{}
			if i > 0 {
				data = append(data, ',')
			}
			data = append(data, it.json...)
		}
		data = append(data, "]}"...)
		cs.doc = recipes.Document{ETag: etag(data), Data: data}
		g.cats.Store(cs)
		return cs, nil
	})
}

func (s *Store) cachedList(ctx context.Context, g *generation, slug string) (*listState, error) {
	if ls := g.list(slug); ls != nil {
		return ls, nil
	}
	return share(ctx, g, "list:"+slug, func() (*listState, error) {
		if ls := g.list(slug); ls != nil {
			return ls, nil
		}
		items, exists, err := s.readList(context.WithoutCancel(ctx), slug)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, categoryNotFound(slug)
		}
		ls := &listState{
			slug:    slug,
			entries: make([]listEntry, 0, len(items)),
			ids:     make(map[string]struct{}, len(items)),
			after:   make(map[string]int, len(items)),
		}
		for _, it := range items {
			var sum recipes.Summary
			if err := json.Unmarshal(it.json, &sum); err != nil {
				return nil, corrupt(s.keys.sums(slug)+" "+it.key, err)
			}
			tags := make([]string, len(sum.Tags))
			for i, t := range sum.Tags {
				tags[i] = strings.ToLower(t)
			}
			ls.entries = append(ls.entries, listEntry{
				member: it.member, cursor: encodeCursor(it.member),
				title: sortKey(sum.Title), tags: tags, models: sum.Models, json: it.json,
			})
			ls.ids[it.key] = struct{}{}
			ls.after[ls.entries[len(ls.entries)-1].cursor] = len(ls.entries) - 1
		}
		g.putList(ls)
		return ls, nil
	})
}

func (s *Store) cachedRecipe(ctx context.Context, g *generation, id string) (*recipeEntry, error) {
	if e := g.recipes.get(id); e != nil {
		return e, nil
	}
	return share(ctx, g, "rcp:"+id, func() (*recipeEntry, error) {
		rctx, cancel := s.edge.RT(context.WithoutCancel(ctx))
		defer cancel()
		raw, err := s.rdb.Get(rctx, s.keys.rcp(id)).Bytes()
		e := &recipeEntry{id: id}
		switch {
		case errors.Is(err, redis.Nil):
			e.missing = true
		case err != nil:
			return nil, storeErr("get recipe "+id, err)
		default:
			var head struct {
				Category string   `json:"category"`
				Models   []string `json:"models"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, corrupt(s.keys.rcp(id), err)
			}
			e.category, e.models = head.Category, head.Models
			e.doc = recipes.Document{ETag: etag(raw), Data: raw}
		}
		g.recipes.put(e)
		return e, nil
	})
}

// item is one stored JSON value with the hash field (slug or id) it was
// stored under and, for list items, its index member.
type item struct {
	key    string
	member string
	json   []byte
}

// readCategories returns every category's JSON by position, then slug, in
// one MULTI/EXEC so the order and the values agree.
func (s *Store) readCategories(ctx context.Context) ([]item, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var order *redis.StringSliceCmd
	var all *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		order = p.ZRange(ctx, s.keys.catorder, 0, -1)
		all = p.HGetAll(ctx, s.keys.cats)
		return nil
	})
	if err != nil {
		return nil, storeErr("read categories", err)
	}
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
	return items, nil
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
