package catalog

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// editorView is what editors see of the category list.
type editorView struct {
	cats   map[string]*recipes.CategoryInfo
	drafts map[string]string // recipe id -> category, of every recipe draft
	isNew  map[string]bool   // recipe id -> draft of a recipe never published
}

func (v *editorView) sorted() []recipes.CategoryInfo {
	out := make([]recipes.CategoryInfo, 0, len(v.cats))
	for _, c := range v.cats {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b recipes.CategoryInfo) int {
		if a.Position != b.Position {
			return a.Position - b.Position
		}
		return strings.Compare(a.Slug, b.Slug)
	})
	return out
}

// readEditorView reads every category, published or draft, with its
// recipe counts, in two round trips.
func (s *Store) readEditorView(ctx context.Context) (*editorView, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var pub, drafts, rcps *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		pub = p.HGetAll(ctx, s.keys.cats)
		drafts = p.HGetAll(ctx, s.keys.draftCats())
		rcps = p.HGetAll(ctx, s.keys.draftRcps())
		return nil
	})
	if err != nil {
		return nil, storeErr("read categories", err)
	}
	v := &editorView{cats: map[string]*recipes.CategoryInfo{}, drafts: rcps.Val(), isNew: map[string]bool{}}
	for slug, js := range pub.Val() {
		ci := &recipes.CategoryInfo{Status: recipes.Published}
		if err := json.Unmarshal([]byte(js), &ci.Category); err != nil {
			return nil, corrupt(s.keys.cats+" "+slug, err)
		}
		v.cats[slug] = ci
	}
	for slug, js := range drafts.Val() {
		ci := &recipes.CategoryInfo{Status: recipes.Unpublished}
		if _, ok := v.cats[slug]; ok {
			ci.Status = recipes.Changed
		}
		if err := json.Unmarshal([]byte(js), &ci.Category); err != nil {
			return nil, corrupt(s.keys.draftCats()+" "+slug, err)
		}
		v.cats[slug] = ci
	}

	ids := slices.Sorted(maps.Keys(v.drafts))
	var published *redis.SliceCmd
	counts := make(map[string]*redis.IntCmd, len(v.cats))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for slug := range v.cats {
			counts[slug] = p.ZCard(ctx, s.keys.idx(slug))
		}
		if len(ids) > 0 {
			published = p.HMGet(ctx, s.keys.rcpcat, ids...)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr("count recipes", err)
	}
	for slug, n := range counts {
		v.cats[slug].Recipes = int(n.Val())
	}
	for i, id := range ids {
		c := v.cats[v.drafts[id]]
		if published.Val()[i] == nil {
			v.isNew[id] = true
			if c != nil {
				c.Recipes++
			}
		}
		if c != nil {
			c.Pending++
		}
	}
	return v, nil
}

// EditorCategories returns every category as editors see it, published or
// not, with its status and recipe counts, by position, then slug.
func (s *Store) EditorCategories(ctx context.Context) ([]recipes.CategoryInfo, error) {
	v, err := s.readEditorView(ctx)
	if err != nil {
		return nil, err
	}
	return v.sorted(), nil
}

// EditorCategory returns one category as editors see it, or ENOTFOUND.
func (s *Store) EditorCategory(ctx context.Context, slug string) (recipes.CategoryInfo, error) {
	v, err := s.readEditorView(ctx)
	if err != nil {
		return recipes.CategoryInfo{}, err
	}
	c, ok := v.cats[slug]
	if !ok {
		return recipes.CategoryInfo{}, categoryNotFound(slug)
	}
	return *c, nil
}
