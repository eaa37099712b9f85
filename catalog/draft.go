package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

func (k keys) draftCats() string         { return k.prefix + "draft:cats" }
func (k keys) draftRcps() string         { return k.prefix + "draft:rcps" }
func (k keys) draftRcp(id string) string { return k.prefix + "draft:rcp:" + id }

// errNoChange ends a write whose prepare found nothing to do.
var errNoChange = errors.New("catalog: nothing to change")

// update runs prepare under WATCH of keys and executes what it queues in
// one MULTI/EXEC, retrying when a watched key changed. It is [Store.write]
// without the version bump, for drafts and staff data, which appliances
// never see.
func (s *Store) update(ctx context.Context, op string, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	for attempt := range maxAttempts {
		var perr error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			var queue queueFunc
			if queue, perr = prepare(ctx, tx); perr != nil {
				return perr
			}
			_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				queue(ctx, p)
				return nil
			})
			return err
		}, keys...)
		switch {
		case errors.Is(perr, errNoChange):
			return nil
		case perr != nil:
			return perr
		case errors.Is(err, redis.TxFailedErr):
			if s.conflicted(ctx, attempt) {
				continue
			}
			return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
		case err != nil:
			return storeErr(op, err)
		}
		return nil
	}
	return recipes.Errorf(recipes.ECONFLICT, "the catalog kept changing during %s; try again", op)
}

// publishing is [Store.write] for changes appliances see; a prepare that
// returns errNoChange makes it a successful no-op.
func (s *Store) publishing(ctx context.Context, op string, rounds int, keys []string,
	prepare func(ctx context.Context, tx *redis.Tx) (queueFunc, error),
) error {
	err := s.write(ctx, op, rounds, keys, prepare)
	if errors.Is(err, errNoChange) {
		return nil
	}
	return err
}

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
	ctx, cancel := s.rt(ctx)
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

// EditorRecipes returns the page of a category's recipes, published or
// not, that f selects, in list order (case-folded title, then id). It
// returns ENOTFOUND if the category does not exist.
func (s *Store) EditorRecipes(ctx context.Context, slug string, f recipes.RecipeFilter) (recipes.RecipePage, error) {
	ctx, cancel := s.rt(ctx)
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
	ctx, cancel := s.rt(ctx)
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

// sameContent reports whether the stored JSON old holds the same content as
// v, whatever their UpdatedAt: saving an unchanged copy makes no draft.
func sameContent[T any](old []byte, v T, clear func(*T)) bool {
	if old == nil {
		return false
	}
	var prev T
	if json.Unmarshal(old, &prev) != nil {
		return false
	}
	clear(&prev)
	clear(&v)
	a, err1 := json.Marshal(prev)
	b, err2 := json.Marshal(v)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

func clearCategoryTime(c *recipes.Category) { c.UpdatedAt = time.Time{} }
func clearRecipeTime(r *recipes.Recipe)     { r.UpdatedAt = time.Time{} }

// getBytes returns the value at key in tx, or nil if there is none.
func getBytes(ctx context.Context, tx *redis.Tx, op, key string) ([]byte, error) {
	b, err := tx.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(op, err)
	}
	return b, nil
}

// hgetBytes returns field of the hash at key in tx, or nil if there is none.
func hgetBytes(ctx context.Context, tx *redis.Tx, op, key, field string) ([]byte, error) {
	b, err := tx.HGet(ctx, key, field).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(op, err)
	}
	return b, nil
}

// fieldError is a *recipes.ValidationError about one field.
func fieldError(kind, id, field, format string, args ...any) error {
	return &recipes.ValidationError{Kind: kind, ID: id, Fields: []recipes.FieldError{{
		Field: field, Message: fmt.Sprintf(format, args...),
	}}}
}
