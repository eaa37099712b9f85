package catalog

import (
	"context"
	"encoding/json"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// revKind maps a [recipes.Revision] item kind to its key part.
func revKind(kind string) (string, error) {
	switch kind {
	case recipes.RevisionRecipe:
		return revRecipe, nil
	case recipes.RevisionCategory:
		return revCategory, nil
	}
	return "", recipes.Errorf(recipes.EINVALID, "revisions of %q: the kind must be %q or %q", kind, recipes.RevisionRecipe, recipes.RevisionCategory)
}

// Revisions returns the kept revisions of a recipe or category (kind is
// recipes.RevisionRecipe or RevisionCategory), newest first. An item that
// exists but has no history (written before histories were kept) has
// none; ENOTFOUND if there is neither item nor history.
func (s *Store) Revisions(ctx context.Context, kind, id string) ([]recipes.Revision, error) {
	k, err := revKind(kind)
	if err != nil {
		return nil, err
	}
	key := s.keys.rev(k, id)
	rctx, cancel := s.edge.RT(ctx)
	defer cancel()
	raws, err := s.rdb.LRange(rctx, key, 0, -1).Result()
	if err != nil {
		return nil, storeErr("read revisions of "+kind+" "+id, err)
	}
	if len(raws) == 0 {
		if ok, err := s.itemExists(rctx, k, id); err != nil {
			return nil, err
		} else if !ok {
			return nil, recipes.Errorf(recipes.ENOTFOUND, "%s %q not found, nor any revision of it", kind, id)
		}
	}
	out := make([]recipes.Revision, len(raws))
	for i, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &out[i]); err != nil {
			return nil, corrupt(key, err)
		}
	}
	return out, nil
}

// Revision returns revision n of a recipe or category, or ENOTFOUND if it
// is not kept.
func (s *Store) Revision(ctx context.Context, kind, id string, n int64) (recipes.Revision, error) {
	k, err := revKind(kind)
	if err != nil {
		return recipes.Revision{}, err
	}
	rctx, cancel := s.edge.RT(ctx)
	defer cancel()
	return s.readRevision(rctx, s.rdb, k, id, n)
}

// readRevision finds revision n of an item in its history, with c (a
// transaction reads it under WATCH).
func (s *Store) readRevision(ctx context.Context, c redis.Cmdable, kind, id string, n int64) (recipes.Revision, error) {
	key := s.keys.rev(kind, id)
	raws, err := c.LRange(ctx, key, 0, -1).Result()
	if err != nil {
		return recipes.Revision{}, storeErr("read revisions of "+id, err)
	}
	var rev recipes.Revision
	for _, raw := range raws {
		if err := json.Unmarshal([]byte(raw), &rev); err != nil {
			return rev, corrupt(key, err)
		}
		if rev.N == n {
			return rev, nil
		}
	}
	name := map[string]string{revRecipe: recipes.RevisionRecipe, revCategory: recipes.RevisionCategory}[kind]
	if len(raws) == 0 {
		return recipes.Revision{}, recipes.Errorf(recipes.ENOTFOUND, "%s %q has no revisions", name, id)
	}
	// Newest first: rev is the oldest kept.
	var newest recipes.Revision
	_ = json.Unmarshal([]byte(raws[0]), &newest)
	return recipes.Revision{}, recipes.Errorf(recipes.ENOTFOUND, "%s %q has no revision %d: revisions %d to %d are kept", name, id, n, rev.N, newest.N)
}

// itemExists reports whether the recipe or category exists, published or
// as a draft.
func (s *Store) itemExists(ctx context.Context, kind, id string) (bool, error) {
	if kind == revRecipe {
		n, err := s.rdb.Exists(ctx, s.keys.draftRcp(id), s.keys.rcp(id)).Result()
		return n > 0, storeErr("find recipe "+id, err)
	}
	for _, key := range []string{s.keys.draftCats(), s.keys.cats} {
		ok, err := s.rdb.HExists(ctx, key, id).Result()
		if err != nil || ok {
			return ok, storeErr("find category "+id, err)
		}
	}
	return false, nil
}
