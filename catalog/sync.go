package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Sync makes the published catalog hold cats and recs, as a seed does: it
// adds what is new, replaces what changed and, with prune, deletes every
// category and recipe that is in neither, all in one MULTI/EXEC that bumps
// the version once. Items whose content is unchanged are not rewritten and
// keep their UpdatedAt and ETags; when nothing changes nothing is written
// and the version stays. Unlike [Store.Import] it writes each kind of key
// with a few large commands, so that a catalog of 100,000 recipes is one
// short transaction.
//
// It returns the changes made: added and changed categories in the order
// given, added recipes, then changed recipes, each in the order given,
// then removed recipes by id and removed categories by slug. It returns
// the errors of Import (a recipe's category must be in cats or, without
// prune, already stored), ECONFLICT if the catalog kept changing while it
// tried, and EUNAVAILABLE if Redis did not answer in time; it then wrote
// nothing.
func (s *Store) Sync(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error) {
	changes, _, err := s.sync(ctx, syncArgs{cats: cats, recs: recs, prune: prune})
	return changes, err
}

// Plan returns the changes [Store.Sync] would make now, writing nothing.
func (s *Store) Plan(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, prune bool) ([]recipes.Change, error) {
	changes, _, err := s.sync(ctx, syncArgs{cats: cats, recs: recs, prune: prune, dryRun: true})
	return changes, err
}

// errNoWrite stops a write after prepare: a dry run, or nothing to do.
var errNoWrite = errors.New("catalog: nothing to write")

// Commands carry at most this many items each, which keeps every command
// and reply far below Redis' limits.
const bulkChunk = 1000

// syncArgs are the arguments of a sync: the content, and the devices
// of [Store.SyncWithDevices].
type syncArgs struct {
	cats          []recipes.Category
	recs          []recipes.Recipe
	devs          recipes.DeviceImport
	prune, dryRun bool
	issuing       bool                                  // new devices without a hash get secrets, else they are refused
	issue         func(secrets map[string]string) error // called with them before each write; nil in a dry run
}

func (s *Store) sync(ctx context.Context, a syncArgs) ([]recipes.Change, []recipes.DeviceChange, error) {
	if err := errors.Join(validateImport(a.cats, a.recs), validateDeviceRecords(a.devs.Devices)); err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) == 1 {
			err = j.Unwrap()[0]
		}
		return nil, nil, err
	}
	in, err := encodeSyncInput(a.cats, a.recs)
	if err != nil {
		return nil, nil, err
	}
	var plan *syncPlan
	var devPlan *devicePlan
	// The secrets issued stay the same when the write is retried.
	var secrets map[string]string
	if a.issuing && !a.dryRun {
		secrets = make(map[string]string)
	}
	// Every write of published content bumps the version inside its
	// MULTI/EXEC, so watching the version notices any of them; drafts are
	// saved without, and are watched by their indexes; devices by their
	// own keys (see planDevices).
	watch := []string{s.keys.version, s.keys.draftRcps(), s.keys.draftCats()}
	rounds := 10 + len(a.recs)/200 + len(a.devs.Devices)/500
	err = s.writeTx(ctx, "sync", rounds, watch, func(ctx context.Context, tx *redis.Tx) (queueFunc, bool, error) {
		var err error
		if plan, err = s.planSync(ctx, tx, in, a.prune); err != nil {
			return nil, false, err
		}
		if devPlan, err = s.planDevices(ctx, tx, a.devs, a.issuing, secrets); err != nil {
			return nil, false, err
		}
		content := len(plan.changes) > 0
		if a.issuing && !a.dryRun {
			// The secrets must be safe before their hashes are stored, and
			// every attempt hands over exactly the secrets it stores, none
			// included: an earlier attempt may have issued some to devices
			// registered since by someone else.
			issued := devPlan.issued
			if issued == nil {
				issued = make(map[string]string)
			}
			if err := a.issue(issued); err != nil {
				return nil, false, fmt.Errorf("catalog: keep the secrets issued: %w", err)
			}
		}
		if a.dryRun || !content && len(devPlan.writes) == 0 {
			return nil, false, errNoWrite
		}
		var drafts syncDrafts
		if content {
			if drafts, err = s.planDrafts(ctx, tx, plan); err != nil {
				return nil, false, err
			}
		}
		now := time.Now().UTC()
		return func(ctx context.Context, p redis.Pipeliner) {
			if content {
				s.queueSync(ctx, p, in, plan, now)
				s.queueDrafts(ctx, p, drafts, plan)
			}
			s.queueDevices(ctx, p, devPlan, now)
		}, content, nil
	})
	if err != nil && !errors.Is(err, errNoWrite) {
		return nil, nil, err
	}
	return plan.changes, devPlan.changes, nil
}

// syncInput is the catalog to sync, encoded. Each JSON value is encoded
// without UpdatedAt ("bare") and with room to stamp it in place.
type syncInput struct {
	cats     []syncCategory
	recs     []encodedRecipe
	catIndex map[string]int // slug -> index in cats
}

type syncCategory struct {
	slug string
	pos  int
	json []byte
}

func encodeSyncInput(cats []recipes.Category, recs []recipes.Recipe) (*syncInput, error) {
	in := &syncInput{
		cats:     make([]syncCategory, len(cats)),
		recs:     make([]encodedRecipe, len(recs)),
		catIndex: make(map[string]int, len(cats)),
	}
	var enc roomyEncoder
	for i, c := range cats {
		c.UpdatedAt = time.Time{}
		b, err := enc.encode(c)
		if err != nil {
			return nil, fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
		}
		in.cats[i] = syncCategory{slug: c.Slug, pos: c.Position, json: b}
		in.catIndex[c.Slug] = i
	}
	for i := range recs {
		r := recs[i]
		r.UpdatedAt = time.Time{}
		e := encodedRecipe{id: r.ID, category: r.Category, member: idxMember(r.Title, r.ID)}
		var err error
		if e.summary, err = enc.encode(r.ToSummary()); err == nil {
			e.recipe, err = enc.encode(&r)
		}
		if err != nil {
			return nil, fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
		}
		in.recs[i] = e
	}
	return in, nil
}

// syncPlan is what a sync changes, worked out under WATCH.
type syncPlan struct {
	changes []recipes.Change

	catWrite []int       // indexes into in.cats to write
	recWrite []int       // indexes into in.recs to write
	recOld   []placement // where each of recWrite is listed now

	goneRecs []goneRecipe
	goneCats []string

	storedCats map[string]string // slug -> JSON, as read
}

type goneRecipe struct {
	id string
	pl placement
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
		}
	}
	err = s.eachStored(ctx, tx, len(storedIdx), func(j int) string { return in.recs[storedIdx[j]].id }, func(j int, raw *string) error {
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
		return nil
	})
	if err != nil {
		return nil, err
	}
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
	err = s.eachStored(ctx, tx, len(gone), func(j int) string { return gone[j] }, func(j int, raw *string) error {
		pl, err := s.headPlacement(ctx, tx, gone[j], raw)
		if err != nil {
			return err
		}
		if pl.category == "" { // the id->category hash knows where it was
			pl.category = rcpcat[gone[j]]
		}
		plan.goneRecs = append(plan.goneRecs, goneRecipe{gone[j], pl})
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

// eachStored fetches the stored JSON of n recipes, whose ids id returns,
// with a few large MGETs, and calls fn with each (nil: not stored).
func (s *Store) eachStored(ctx context.Context, tx *redis.Tx, n int, id func(int) string, fn func(int, *string) error) error {
	keys := make([]string, 0, min(n, bulkChunk))
	for start := 0; start < n; start += bulkChunk {
		end := min(start+bulkChunk, n)
		keys = keys[:0]
		for j := start; j < end; j++ {
			keys = append(keys, s.keys.rcp(id(j)))
		}
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return storeErr("sync", err)
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
