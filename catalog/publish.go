package catalog

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// The writes below change what appliances see: each bumps the catalog
// version and invalidates every instance's cache (see [Store.write]), so
// the next request for a changed resource gets the new content and ETag.

// PublishRecipe makes a recipe's draft what appliances see, together with
// its category if that was never published. It returns what it published
// (nothing if the recipe had no unpublished changes), ENOTFOUND if there is
// no such recipe, and the *recipes.ValidationError if the draft is no
// longer valid.
func (s *Store) PublishRecipe(ctx context.Context, id string) (recipes.Publication, error) {
	return s.publishRecipe(ctx, id, nil)
}

// publishRecipe is [Store.PublishRecipe] with hook's work in the same
// transaction (nil: none).
func (s *Store) publishRecipe(ctx context.Context, id string, hook publishHook) (recipes.Publication, error) {
	var pubd recipes.Publication
	err := s.publishing(ctx, "publish recipe", 6, []string{s.keys.draftRcp(id), s.keys.rcp(id)},
		hook.around(&pubd, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			pubd = recipes.Publication{}
			op := "publish recipe " + id
			draft, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.draftRcp(id)))
			if err != nil {
				return nil, err
			}
			pub, err := s.edge.Bytes(op, tx.Get(ctx, s.keys.rcp(id)))
			if err != nil {
				return nil, err
			}
			switch {
			case draft == nil && pub == nil:
				return nil, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
			case draft == nil:
				return nil, errNoChange
			}
			pr, err := s.preparePublish(ctx, tx, id, draft, pub)
			if err != nil {
				return nil, err
			}
			// The draft, WATCHed, names the category; a published category
			// stays published until it is removed, which its catgen key
			// tells. Publishing it with the recipe also depends on its draft
			// (name, position), which only the category hashes hold.
			slug := pr.enc.category
			if err := tx.Watch(ctx, s.keys.catGen(slug)).Err(); err != nil {
				return nil, storeErr(op, err)
			}
			var cat []byte
			published, err := tx.HExists(ctx, s.keys.cats, slug).Result()
			if err == nil && !published {
				// Read again once WATCHed: it may have been published since.
				if err = tx.Watch(ctx, s.keys.cats, s.keys.draftCats()).Err(); err == nil {
					published, err = tx.HExists(ctx, s.keys.cats, slug).Result()
				}
			}
			if err != nil {
				return nil, storeErr(op, err)
			}
			if !published {
				if cat, err = s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), slug)); err != nil {
					return nil, err
				}
				if cat == nil {
					return nil, unknownCategory(id, slug)
				}
				pubd.Categories = []string{slug}
			}
			pos, err := categoryPosition(cat)
			if err != nil {
				return nil, corrupt(s.keys.draftCats()+" "+pr.enc.category, err)
			}
			pubd.Recipes = []string{id}
			notes := []revNote{{kind: revRecipe, id: id, action: recipes.RevPublished, prev: pub, snap: draft}}
			if cat != nil {
				notes = append(notes, revNote{kind: revCategory, id: slug, action: recipes.RevPublished, snap: cat})
			}
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) {
				if cat != nil {
					s.queueCategory(ctx, p, pr.enc.category, pos, cat)
					s.queueDraftCategoryRemoval(ctx, p, pr.enc.category)
				}
				s.queuePublish(ctx, p, pr)
			}, nil, notes...)
		}))
	return pubd, err
}

// recipePublish is one recipe draft ready to be published.
type recipePublish struct {
	enc encodedRecipe
	old placement
}

// preparePublish checks and encodes the draft of recipe id; pub is its
// published JSON or nil.
func (s *Store) preparePublish(ctx context.Context, tx *redis.Tx, id string, draft, pub []byte) (recipePublish, error) {
	var r recipes.Recipe
	if err := json.Unmarshal(draft, &r); err != nil {
		return recipePublish{}, corrupt(s.keys.draftRcp(id), err)
	}
	if err := r.Validate(); err != nil {
		return recipePublish{}, err
	}
	old, err := s.placementOf(ctx, tx, id, pub)
	if err != nil {
		return recipePublish{}, err
	}
	enc, err := encodeRecipe(&r) // keeps the draft's UpdatedAt: when its content changed
	return recipePublish{enc: enc, old: old}, err
}

func (s *Store) queuePublish(ctx context.Context, p redis.Pipeliner, pr recipePublish) {
	s.queueRecipe(ctx, p, pr.enc, pr.old)
	s.queueDraftRecipeRemoval(ctx, p, pr.enc.id)
}

func categoryPosition(raw []byte) (int, error) {
	if raw == nil {
		return 0, nil
	}
	var c recipes.Category
	err := json.Unmarshal(raw, &c)
	return c.Position, err
}

// PublishCategory publishes a category's draft, if it has one, and the
// drafts of all its recipes, at once. It returns what it published and
// ENOTFOUND if there is no such category.
func (s *Store) PublishCategory(ctx context.Context, slug string) (recipes.Publication, error) {
	return s.publishCategory(ctx, slug, nil)
}

// publishCategory is [Store.PublishCategory] with hook's work in the same
// transaction (nil: none).
func (s *Store) publishCategory(ctx context.Context, slug string, hook publishHook) (recipes.Publication, error) {
	var pubd recipes.Publication
	err := s.publishing(ctx, "publish category", 10,
		[]string{s.keys.cats, s.keys.draftCats(), s.keys.draftRcps(), s.keys.rcpcat},
		hook.around(&pubd, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			pubd = recipes.Publication{}
			op := "publish category " + slug
			draft, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), slug))
			if err != nil {
				return nil, err
			}
			if draft == nil {
				if ok, err := tx.HExists(ctx, s.keys.cats, slug).Result(); err != nil {
					return nil, storeErr(op, err)
				} else if !ok {
					return nil, categoryNotFound(slug)
				}
			}
			pos, err := categoryPosition(draft)
			if err != nil {
				return nil, corrupt(s.keys.draftCats()+" "+slug, err)
			}
			ids, err := s.draftsIn(ctx, tx, slug)
			if err != nil {
				return nil, err
			}
			if draft == nil && len(ids) == 0 {
				return nil, errNoChange
			}
			drafts, pubs, err := s.watchRecipes(ctx, tx, op, ids)
			if err != nil {
				return nil, err
			}
			prs := make([]recipePublish, 0, len(ids))
			var notes []revNote
			for i, id := range ids {
				if drafts[i] == nil {
					continue
				}
				pr, err := s.preparePublish(ctx, tx, id, drafts[i], pubs[i])
				if err != nil {
					return nil, err
				}
				prs = append(prs, pr)
				pubd.Recipes = append(pubd.Recipes, id)
				notes = append(notes, revNote{kind: revRecipe, id: id, action: recipes.RevPublished, prev: pubs[i], snap: drafts[i]})
			}
			if draft != nil {
				pubd.Categories = []string{slug}
				prev, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.cats, slug))
				if err != nil {
					return nil, err
				}
				notes = append(notes, revNote{kind: revCategory, id: slug, action: recipes.RevPublished, prev: prev, snap: draft})
			}
			return s.withRevisions(ctx, tx, func(ctx context.Context, p redis.Pipeliner) {
				if draft != nil {
					s.queueCategory(ctx, p, slug, pos, draft)
					s.queueDraftCategoryRemoval(ctx, p, slug)
				}
				for _, pr := range prs {
					s.queuePublish(ctx, p, pr)
				}
			}, nil, notes...)
		}))
	return pubd, err
}

// draftsIn returns the ids of the recipe drafts filed under slug, sorted.
func (s *Store) draftsIn(ctx context.Context, tx *redis.Tx, slug string) ([]string, error) {
	all, err := tx.HGetAll(ctx, s.keys.draftRcps()).Result()
	if err != nil {
		return nil, storeErr("read drafts", err)
	}
	var ids []string
	for id, cat := range all {
		if cat == slug {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// watchRecipes adds the draft and published keys of ids to tx's WATCH and
// returns their values (nil where missing).
func (s *Store) watchRecipes(ctx context.Context, tx *redis.Tx, op string, ids []string) (drafts, pubs [][]byte, err error) {
	if len(ids) == 0 {
		return nil, nil, nil
	}
	dk, pk := make([]string, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		dk[i], pk[i] = s.keys.draftRcp(id), s.keys.rcp(id)
	}
	if err := tx.Watch(ctx, append(slices.Clone(dk), pk...)...).Err(); err != nil {
		return nil, nil, storeErr(op, err)
	}
	get := func(keys []string) ([][]byte, error) {
		vals, err := tx.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, storeErr(op, err)
		}
		out := make([][]byte, len(vals))
		for i, v := range vals {
			if v, ok := v.(string); ok {
				out[i] = []byte(v)
			}
		}
		return out, nil
	}
	if drafts, err = get(dk); err != nil {
		return nil, nil, err
	}
	pubs, err = get(pk)
	return drafts, pubs, err
}

// watchRecipe is [Store.watchRecipes] of the one recipe id, which must
// exist: ENOTFOUND if it has neither a draft nor a published copy.
func (s *Store) watchRecipe(ctx context.Context, tx *redis.Tx, op, id string) (drafts, pubs [][]byte, err error) {
	drafts, pubs, err = s.watchRecipes(ctx, tx, op+" "+id, []string{id})
	if err == nil && drafts[0] == nil && pubs[0] == nil {
		err = recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", id)
	}
	return drafts, pubs, err
}
