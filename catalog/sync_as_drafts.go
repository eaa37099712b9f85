package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// syncAsDrafts is [Store.Sync] with Drafts: cats and recs become editors'
// drafts, in one MULTI/EXEC that leaves published content and the version
// alone.
func (s *Store) syncAsDrafts(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, dryRun bool, decl *recipes.LanguagesDecl) ([]recipes.Change, error) {
	if err := validateImport(cats, recs); err != nil {
		return nil, err
	}
	in, err := encodeSyncInput(cats, recs)
	if err != nil {
		return nil, err
	}
	tr := collectTranslations(cats, recs)
	var plan *draftPlan
	// Publishing bumps the version; editors' saves change the draft indexes.
	watch := []string{s.keys.version, s.keys.cats, s.keys.rcpcat, s.keys.draftCats(), s.keys.draftRcps(), s.keys.settings(), s.keys.revSeq()}
	// The drafts leave the version alone; the catalog's languages are no
	// draft, and a change to them is one appliances see.
	err = s.writeTx(ctx, draftsOp, 4, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		langs, setLangs, err := s.syncLanguages(ctx, tx, tr, decl, false)
		if err != nil {
			return nil, false, err
		}
		if plan, err = s.planDrafts(ctx, tx, in); err != nil {
			return nil, false, err
		}
		if setLangs {
			plan.changes = append(plan.changes, languagesChange(langs))
		}
		if dryRun || len(plan.changes)+len(plan.dropCats)+len(plan.dropRecs) == 0 {
			return nil, false, errNoChange
		}
		revs, err := s.prepareRevisions(ctx, tx, draftNotes(in, plan), false)
		if err != nil {
			return nil, false, err
		}
		now := time.Now().UTC()
		return func(ctx context.Context, p redis.Pipeliner) {
			b := s.bulk(ctx, p)
			queueDrafts(b, in, plan, now)
			b.putRevisions(draftSnapshots(revs, in, plan))
			b.flush()
			if setLangs {
				s.queueLanguages(langs)(ctx, p)
			}
		}, setLangs, nil
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return nil, err
	}
	return plan.changes, nil
}

const draftsOp = "seed drafts"

// draftPlan is what a sync as drafts changes, worked out under WATCH.
type draftPlan struct {
	changes            []recipes.Change
	setCats, dropCats  []int // indexes into in.cats
	setRecs, dropRecs  []int // indexes into in.recs
	pubCats, draftCats map[string]string
	filed              map[string]string // recipe id -> category of its draft
}

// planDrafts reads the published and drafted catalog under WATCH and
// compares it with in.
func (s *Store) planDrafts(ctx context.Context, tx *redis.Tx, in *syncInput) (*draftPlan, error) {
	plan := &draftPlan{}
	var err error
	if plan.pubCats, err = tx.HGetAll(ctx, s.keys.cats).Result(); err != nil {
		return nil, storeErr(draftsOp, err)
	}
	if plan.draftCats, err = tx.HGetAll(ctx, s.keys.draftCats()).Result(); err != nil {
		return nil, storeErr(draftsOp, err)
	}
	if plan.filed, err = tx.HGetAll(ctx, s.keys.draftRcps()).Result(); err != nil {
		return nil, storeErr(draftsOp, err)
	}
	plan.planCategories(in)
	for i := range in.recs {
		e := &in.recs[i]
		_, listed := in.catIndex[e.category]
		_, isPub := plan.pubCats[e.category]
		_, isDraft := plan.draftCats[e.category]
		if !listed && !isPub && !isDraft {
			return nil, unknownCategory(e.id, e.category)
		}
	}
	drafted, err := s.planRecipeDrafts(ctx, tx, in, plan)
	if err != nil {
		return nil, err
	}
	// Recipes with a draft differ from their draft, or not.
	err = mgetEach(ctx, tx, draftsOp, true, len(drafted), func(k int) string { return s.keys.draftRcp(in.recs[drafted[k]].id) }, func(k int, raw *string) error {
		i := drafted[k]
		e := &in.recs[i]
		if raw == nil || plan.filed[e.id] != e.category || !sameJSON(*raw, e.recipe) {
			plan.changes = append(plan.changes, recipes.Change{Op: recipes.ItemChanged, Kind: "recipe", ID: e.id, Category: e.category})
			plan.setRecs = append(plan.setRecs, i)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plan, nil
}

// planCategories compares the categories of in with their published copy
// and draft.
func (plan *draftPlan) planCategories(in *syncInput) {
	for i, c := range in.cats {
		pub, isPub := plan.pubCats[c.slug]
		draft, isDraft := plan.draftCats[c.slug]
		switch {
		case isPub && sameJSON(pub, c.json):
			if isDraft {
				plan.dropCats = append(plan.dropCats, i)
			}
			continue
		case isDraft && sameJSON(draft, c.json):
			continue
		}
		ch := recipes.Change{Op: recipes.ItemChanged, Kind: "category", ID: c.slug, Category: c.slug}
		if !isPub && !isDraft {
			ch.Op = recipes.ItemAdded
		}
		plan.changes = append(plan.changes, ch)
		plan.setCats = append(plan.setCats, i)
	}
}

// planRecipeDrafts compares the recipes of in with their published copy.
// It returns the indexes of those that differ from it (or have none) and
// have a draft, which they must be compared with too.
func (s *Store) planRecipeDrafts(ctx context.Context, tx *redis.Tx, in *syncInput, plan *draftPlan) (drafted []int, err error) {
	err = mgetEach(ctx, tx, draftsOp, false, len(in.recs), func(i int) string { return s.keys.rcp(in.recs[i].id) }, func(i int, raw *string) error {
		e := &in.recs[i]
		_, hasDraft := plan.filed[e.id]
		if raw != nil {
			cat, _, ok := recipeHead(*raw)
			if !ok {
				var head struct{ Category string }
				if err := json.Unmarshal([]byte(*raw), &head); err != nil {
					return corrupt(s.keys.rcp(e.id), err)
				}
				cat = head.Category
			}
			if cat != e.category {
				return fieldError("recipe", e.id, "category",
					"cannot change from %q in a draft; seed without -draft to move the recipe, or move it in the editor", cat)
			}
			if sameJSON(*raw, e.recipe) {
				if hasDraft {
					plan.dropRecs = append(plan.dropRecs, i)
				}
				return nil
			}
		}
		if hasDraft {
			drafted = append(drafted, i)
			return nil
		}
		op := recipes.ItemChanged
		if raw == nil {
			op = recipes.ItemAdded
		}
		plan.changes = append(plan.changes, recipes.Change{Op: op, Kind: "recipe", ID: e.id, Category: e.category})
		plan.setRecs = append(plan.setRecs, i)
		return nil
	})
	return drafted, err
}

// queueDrafts queues plan's writes of drafts into the bulk batch b,
// stamping what it writes with now in place.
func queueDrafts(b *batch, in *syncInput, plan *draftPlan, now time.Time) {
	for _, i := range plan.dropCats {
		b.dropDraftCategory(in.cats[i].slug)
	}
	for _, i := range plan.setCats {
		c := &in.cats[i]
		c.json = stampJSON(c.json, now)
		b.putDraftCategory(c.slug, c.json)
	}
	for _, i := range plan.dropRecs {
		b.dropDraftRecipe(in.recs[i].id)
	}
	for _, i := range plan.setRecs {
		e := &in.recs[i]
		e.recipe = stampJSON(e.recipe, now)
		b.putDraftRecipe(e.id, e.category, e.recipe)
	}
}
