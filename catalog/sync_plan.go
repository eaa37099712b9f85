package catalog

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// syncPlan is what a sync changes, worked out under WATCH.
type syncPlan struct {
	changes []recipes.Change

	catWrite []int       // indexes into in.cats to write
	recWrite []int       // indexes into in.recs to write
	recOld   []placement // where each of recWrite is listed now
	recDiff  [][]string  // the fields each of recWrite changes (nil: added)

	goneRecs []goneRecipe
	goneCats []string

	storedCats map[string]string // slug -> JSON, as read
}

type goneRecipe struct {
	id  string
	pl  placement
	raw []byte // its published JSON, for its last revision
}

// planSync reads the stored catalog under WATCH and compares it with in.
func (s *Store) planSync(ctx context.Context, tx *redis.Tx, in *syncInput, prune bool) (*syncPlan, error) {
	storedCats, err := tx.HGetAll(ctx, s.keys.cats).Result()
	if err != nil {
		return nil, storeErr("sync", err)
	}
	rcpcat, err := tx.HGetAll(ctx, s.keys.rcpcat).Result()
	if err != nil {
		return nil, storeErr("sync", err)
	}
	plan := &syncPlan{storedCats: storedCats}
	for i, c := range in.cats {
		old, ok := storedCats[c.slug]
		switch {
		case !ok:
			plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemAdded, Kind: "category", ID: c.slug, Category: c.slug})
		case !sameJSON(old, c.json):
			plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemChanged, Kind: "category", ID: c.slug, Category: c.slug})
		default:
			continue
		}
		plan.catWrite = append(plan.catWrite, i)
	}

	inputIDs := make(map[string]struct{}, len(in.recs))
	var storedIdx []int // input recipes that are stored
	for i := range in.recs {
		e := &in.recs[i]
		inputIDs[e.id] = struct{}{}
		_, listed := in.catIndex[e.category]
		if _, stored := storedCats[e.category]; !listed && (prune || !stored) {
			return nil, unknownCategory(e.id, e.category)
		}
		if _, ok := rcpcat[e.id]; ok {
			storedIdx = append(storedIdx, i)
		} else {
			plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemAdded, Kind: "recipe", ID: e.id, Category: e.category})
			plan.recWrite = append(plan.recWrite, i)
			plan.recOld = append(plan.recOld, placement{})
			plan.recDiff = append(plan.recDiff, nil)
		}
	}
	// The stored copy of each changed recipe, by its index in recDiff: the
	// changed fields are worked out once all are read, on every CPU.
	type storedCopy struct {
		k   int
		raw *string
	}
	var stored []storedCopy
	err = mgetEach(ctx, tx, "sync", false, len(storedIdx), func(j int) string { return s.keys.rcp(in.recs[storedIdx[j]].id) }, func(j int, raw *string) error {
		e := &in.recs[storedIdx[j]]
		if raw != nil && sameJSON(*raw, e.recipe) {
			return nil
		}
		old, err := s.headPlacement(ctx, tx, e.id, raw)
		if err != nil {
			return err
		}
		ch := recipes.Change{Op: recipes.ItemChanged, Kind: "recipe", ID: e.id, Category: e.category}
		if old.category != "" && old.category != e.category {
			ch.From = old.category
		}
		plan.changes = append(plan.changes, ch)
		plan.recWrite = append(plan.recWrite, storedIdx[j])
		plan.recOld = append(plan.recOld, old)
		if raw != nil {
			stored = append(stored, storedCopy{len(plan.recDiff), raw})
		}
		plan.recDiff = append(plan.recDiff, nil)
		return nil
	})
	if err != nil {
		return nil, err
	}
	inParallel(len(stored), func(lo, hi int) {
		for _, c := range stored[lo:hi] {
			plan.recDiff[c.k] = syncChanged(c.raw, in.recs[plan.recWrite[c.k]].recipe)
		}
	})
	if !prune {
		return plan, nil
	}

	var gone []string
	for id := range rcpcat {
		if _, ok := inputIDs[id]; !ok {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	err = mgetEach(ctx, tx, "sync", false, len(gone), func(j int) string { return s.keys.rcp(gone[j]) }, func(j int, raw *string) error {
		pl, err := s.headPlacement(ctx, tx, gone[j], raw)
		if err != nil {
			return err
		}
		if pl.category == "" { // the id->category hash knows where it was
			pl.category = rcpcat[gone[j]]
		}
		plan.goneRecs = append(plan.goneRecs, goneRecipe{gone[j], pl, []byte(*raw)})
		plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemRemoved, Kind: "recipe", ID: gone[j], Category: pl.category})
		return nil
	})
	if err != nil {
		return nil, err
	}
	for slug := range storedCats {
		if _, ok := in.catIndex[slug]; !ok {
			plan.goneCats = append(plan.goneCats, slug)
		}
	}
	slices.Sort(plan.goneCats)
	for _, slug := range plan.goneCats {
		plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemRemoved, Kind: "category", ID: slug, Category: slug})
	}
	return plan, nil
}

// mgetEach fetches the values of n string keys, which key returns, with a
// few large MGETs, and calls fn with each (nil: no such key). With watch it
// WATCHes them first, for a write that rewrites them.
func mgetEach(ctx context.Context, tx *redis.Tx, op string, watch bool, n int, key func(int) string, fn func(int, *string) error) error {
	keys := make([]string, 0, min(n, bulkChunk))
	for start := 0; start < n; start += bulkChunk {
		end := min(start+bulkChunk, n)
		keys = keys[:0]
		for j := start; j < end; j++ {
			keys = append(keys, key(j))
		}
		if watch {
			if err := tx.Watch(ctx, keys...).Err(); err != nil {
				return storeErr(op, err)
			}
		}
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return storeErr(op, err)
		}
		for j, v := range vals {
			var raw *string
			if v, ok := v.(string); ok {
				raw = &v
			}
			if err := fn(start+j, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// headPlacement is [Store.placementOf], reading only the members it needs
// of the stored recipe raw (nil: not stored).
func (s *Store) headPlacement(ctx context.Context, tx *redis.Tx, id string, raw *string) (placement, error) {
	if raw == nil {
		return placement{}, nil
	}
	if cat, title, ok := recipeHead(*raw); ok {
		return placement{category: cat, member: idxMember(title, id)}, nil
	}
	return s.placementOf(ctx, tx, id, []byte(*raw))
}

// recipeHead returns the category and title of a stored recipe, reading no
// further than those members, which encoding/json writes near the start.
func recipeHead(raw string) (category, title string, ok bool) {
	dec := json.NewDecoder(strings.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", "", false
	}
	var gotCat, gotTitle bool
	for dec.More() && !(gotCat && gotTitle) {
		t, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		var dst *string
		switch t {
		case "category":
			dst, gotCat = &category, true
		case "title":
			dst, gotTitle = &title, true
		default:
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return "", "", false
			}
			continue
		}
		if dec.Decode(dst) != nil {
			return "", "", false
		}
	}
	return category, title, gotCat && gotTitle && category != ""
}
