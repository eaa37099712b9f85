package catalog

import (
	"context"
	"encoding/json"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// syncAsDrafts is [Store.Sync] with Drafts: cats and recs become editors'
// drafts, in one MULTI/EXEC that leaves published content and the version
// alone.
func (s *Store) syncAsDrafts(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, dryRun bool) ([]recipes.Change, error) {
	if err := validateImport(cats, recs); err != nil {
		return nil, err
	}
	in, err := encodeSyncInput(cats, recs)
	if err != nil {
		return nil, err
	}
	var changes []recipes.Change
	// Publishing bumps the version; editors' saves change the draft indexes.
	watch := []string{s.keys.version, s.keys.cats, s.keys.rcpcat, s.keys.draftCats(), s.keys.draftRcps()}
	err = s.update(ctx, "seed drafts", watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		changes = nil
		const op = "seed drafts"
		pubCats, err := tx.HGetAll(ctx, s.keys.cats).Result()
		if err != nil {
			return nil, storeErr(op, err)
		}
		draftCats, err := tx.HGetAll(ctx, s.keys.draftCats()).Result()
		if err != nil {
			return nil, storeErr(op, err)
		}
		filed, err := tx.HGetAll(ctx, s.keys.draftRcps()).Result() // id -> category
		if err != nil {
			return nil, storeErr(op, err)
		}
		var setCats, dropCats []int
		for i, c := range in.cats {
			pub, isPub := pubCats[c.slug]
			draft, isDraft := draftCats[c.slug]
			switch {
			case isPub && sameJSON(pub, c.json):
				if isDraft {
					dropCats = append(dropCats, i)
				}
				continue
			case isDraft && sameJSON(draft, c.json):
				continue
			}
			ch := recipes.Change{Op: recipes.ItemChanged, Kind: "category", ID: c.slug, Category: c.slug}
			if !isPub && !isDraft {
				ch.Op = recipes.ItemAdded
			}
			changes = append(changes, ch)
			setCats = append(setCats, i)
		}

		for i := range in.recs {
			e := &in.recs[i]
			_, listed := in.catIndex[e.category]
			_, isPub := pubCats[e.category]
			_, isDraft := draftCats[e.category]
			if !listed && !isPub && !isDraft {
				return nil, unknownCategory(e.id, e.category)
			}
		}
		n := len(in.recs)
		pubRaw := make([]*string, n)
		if err := s.eachStored(ctx, tx, n, func(j int) string { return in.recs[j].id }, func(j int, raw *string) error {
			pubRaw[j] = raw
			return nil
		}); err != nil {
			return nil, err
		}
		var setRecs, dropRecs []int
		var draftIdx []int // recipes with a draft to compare with
		for i := range in.recs {
			e := &in.recs[i]
			if raw := pubRaw[i]; raw != nil {
				cat, _, ok := recipeHead(*raw)
				if !ok {
					var head struct{ Category string }
					if err := json.Unmarshal([]byte(*raw), &head); err != nil {
						return nil, corrupt(s.keys.rcp(e.id), err)
					}
					cat = head.Category
				}
				if cat != e.category {
					return nil, fieldError("recipe", e.id, "category",
						"cannot change from %q in a draft; seed without -draft to move the recipe, or move it in the editor", cat)
				}
				if sameJSON(*raw, e.recipe) {
					if _, ok := filed[e.id]; ok {
						dropRecs = append(dropRecs, i)
					}
					continue
				}
			}
			if _, ok := filed[e.id]; ok {
				draftIdx = append(draftIdx, i)
				continue
			}
			op := recipes.ItemChanged
			if pubRaw[i] == nil {
				op = recipes.ItemAdded
			}
			changes = append(changes, recipes.Change{Op: op, Kind: "recipe", ID: e.id, Category: e.category})
			setRecs = append(setRecs, i)
		}
		if len(draftIdx) > 0 {
			keys := make([]string, len(draftIdx))
			for k, i := range draftIdx {
				keys[k] = s.keys.draftRcp(in.recs[i].id)
			}
			if err := tx.Watch(ctx, keys...).Err(); err != nil {
				return nil, storeErr(op, err)
			}
			for start := 0; start < len(keys); start += bulkChunk {
				end := min(start+bulkChunk, len(keys))
				vals, err := tx.MGet(ctx, keys[start:end]...).Result()
				if err != nil {
					return nil, storeErr(op, err)
				}
				for k, v := range vals {
					i := draftIdx[start+k]
					e := &in.recs[i]
					if raw, ok := v.(string); ok && filed[e.id] == e.category && sameJSON(raw, e.recipe) {
						continue
					}
					changes = append(changes, recipes.Change{Op: recipes.ItemChanged, Kind: "recipe", ID: e.id, Category: e.category})
					setRecs = append(setRecs, i)
				}
			}
		}
		if dryRun || len(changes)+len(dropCats)+len(dropRecs) == 0 {
			return nil, errNoChange
		}
		now := time.Now().UTC()
		return func(ctx context.Context, p redis.Pipeliner) {
			q := bulkQueue{ctx: ctx, p: p}
			for _, i := range dropCats {
				q.add("hdel", s.keys.draftCats(), in.cats[i].slug)
			}
			for _, i := range setCats {
				c := &in.cats[i]
				c.json = stampJSON(c.json, now)
				q.add("hset", s.keys.draftCats(), c.slug, c.json)
			}
			for _, i := range dropRecs {
				q.add("del", s.keys.draftRcp(in.recs[i].id))
				q.add("hdel", s.keys.draftRcps(), in.recs[i].id)
			}
			for _, i := range setRecs {
				e := &in.recs[i]
				e.recipe = stampJSON(e.recipe, now)
				q.add("mset", s.keys.draftRcp(e.id), e.recipe)
				q.add("hset", s.keys.draftRcps(), e.id, e.category)
			}
			q.flush()
		}, nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}
