package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// EditorRecipes returns the page of a category's recipes, published or
// not, that f selects, in list order (case-folded title, then id). It
// returns ENOTFOUND if the category does not exist.
func (s *Store) EditorRecipes(ctx context.Context, slug string, f recipes.RecipeFilter) (recipes.RecipePage, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var pubCat, draftCat *redis.BoolCmd
	var sums, rcps *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		pubCat = p.HExists(ctx, s.keys.cats, slug)
		draftCat = p.HExists(ctx, s.keys.draftCats(), slug)
		sums = p.HGetAll(ctx, s.keys.sums(slug))
		rcps = p.HGetAll(ctx, s.keys.draftRcps())
		return nil
	})
	if err != nil {
		return recipes.RecipePage{}, storeErr("read category "+slug, err)
	}
	if !pubCat.Val() && !draftCat.Val() {
		return recipes.RecipePage{}, categoryNotFound(slug)
	}
	var draftIDs []string
	for id, cat := range rcps.Val() {
		if cat == slug {
			draftIDs = append(draftIDs, id)
		}
	}
	slices.Sort(draftIDs)
	var drafts []any
	if len(draftIDs) > 0 {
		keys := make([]string, len(draftIDs))
		for i, id := range draftIDs {
			keys[i] = s.keys.draftRcp(id)
		}
		if drafts, err = s.rdb.MGet(ctx, keys...).Result(); err != nil {
			return recipes.RecipePage{}, storeErr("read drafts", err)
		}
	}

	items := make(map[string]recipes.RecipeInfo, len(sums.Val())+len(draftIDs))
	for id, js := range sums.Val() {
		ri := recipes.RecipeInfo{Status: recipes.Published}
		if err := json.Unmarshal([]byte(js), &ri.Summary); err != nil {
			return recipes.RecipePage{}, corrupt(s.keys.sums(slug)+" "+id, err)
		}
		items[id] = ri
	}
	for i, id := range draftIDs {
		js, ok := drafts[i].(string)
		if !ok {
			continue // deleted between the two reads
		}
		var r recipes.Recipe
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			return recipes.RecipePage{}, corrupt(s.keys.draftRcp(id), err)
		}
		ri := recipes.RecipeInfo{Summary: r.ToSummary(), Status: recipes.Unpublished}
		if _, ok := items[id]; ok {
			ri.Status = recipes.Changed
		}
		items[id] = ri
	}

	text := strings.ToLower(f.Text)
	all := make([]recipes.RecipeInfo, 0, len(items))
	for _, ri := range items {
		if matchesText(ri.Summary, text) {
			all = append(all, ri)
		}
	}
	slices.SortFunc(all, func(a, b recipes.RecipeInfo) int {
		return strings.Compare(idxMember(a.Title, a.ID), idxMember(b.Title, b.ID))
	})
	limit := f.Limit
	if limit <= 0 {
		limit = recipes.DefaultLimit
	}
	start := min(max(f.Offset, 0), len(all))
	end := min(start+limit, len(all))
	return recipes.RecipePage{Items: all[start:end], Total: len(all)}, nil
}

func matchesText(s recipes.Summary, lowered string) bool {
	if lowered == "" || strings.Contains(strings.ToLower(s.Title), lowered) || strings.Contains(s.ID, lowered) {
		return true
	}
	for _, t := range s.Tags {
		if strings.Contains(strings.ToLower(t), lowered) {
			return true
		}
	}
	return false
}

// EditorRecipe returns the editors' copy of a recipe (its draft if it has
// one) and its status, or ENOTFOUND.
func (s *Store) EditorRecipe(ctx context.Context, id string) (recipes.Recipe, recipes.Status, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var draft, pub *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		draft = p.Get(ctx, s.keys.draftRcp(id))
		pub = p.Get(ctx, s.keys.rcp(id))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return recipes.Recipe{}, "", storeErr("get recipe "+id, err)
	}
	var r recipes.Recipe
	key, raw, status := s.keys.draftRcp(id), draft.Val(), recipes.Unpublished
	switch {
	case draft.Err() == nil && pub.Err() == nil:
		status = recipes.Changed
	case draft.Err() == nil:
	case pub.Err() == nil:
		key, raw, status = s.keys.rcp(id), pub.Val(), recipes.Published
	default:
		return r, "", recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
	}
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return r, "", corrupt(key, err)
	}
	return r, status, nil
}
