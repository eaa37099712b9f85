package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

func (k keys) tokens() string    { return k.prefix + "staff:tokens" }
func (k keys) tokenHash() string { return k.prefix + "staff:tokhash" }

// APITokens returns every API token by name.
func (s *Store) APITokens(ctx context.Context) ([]recipes.APIToken, error) {
	return listHash(ctx, s, s.keys.tokens(), "list tokens", func(t *recipes.APIToken) string { return t.Name })
}

// AddAPIToken stores t, whose Hash is a hash of its secret. It returns
// EINVALID for a bad name or scopes and ECONFLICT if the name is taken.
func (s *Store) AddAPIToken(ctx context.Context, t recipes.APIToken) error {
	if err := recipes.CheckName("token", t.Name); err != nil {
		return err
	}
	if err := recipes.CheckScopes(t.Scopes); err != nil {
		return err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("catalog: encode token %s: %w", t.Name, err)
	}
	return s.update(ctx, "add token", []string{s.keys.tokens()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			taken, err := tx.HExists(ctx, s.keys.tokens(), t.Name).Result()
			if err != nil {
				return nil, storeErr("add token "+t.Name, err)
			}
			if taken {
				return nil, recipes.Errorf(recipes.ECONFLICT, "an API token named %q already exists", t.Name)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HSet(ctx, s.keys.tokens(), t.Name, b)
				p.HSet(ctx, s.keys.tokenHash(), t.Hash, t.Name)
			}, nil
		})
}

// APITokenByHash returns the token whose secret hashes to hash, or
// ENOTFOUND if there is none (never was, or revoked).
func (s *Store) APITokenByHash(ctx context.Context, hash string) (recipes.APIToken, error) {
	ctx, cancel := s.rt(ctx)
	defer cancel()
	notFound := recipes.Errorf(recipes.ENOTFOUND, "API token not found")
	name, err := s.rdb.HGet(ctx, s.keys.tokenHash(), hash).Result()
	if errors.Is(err, redis.Nil) {
		return recipes.APIToken{}, notFound
	}
	if err != nil {
		return recipes.APIToken{}, storeErr("find token", err)
	}
	raw, err := s.rdb.HGet(ctx, s.keys.tokens(), name).Bytes()
	if errors.Is(err, redis.Nil) {
		return recipes.APIToken{}, notFound // revoked in between
	}
	if err != nil {
		return recipes.APIToken{}, storeErr("find token", err)
	}
	var t recipes.APIToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return recipes.APIToken{}, corrupt(s.keys.tokens()+" "+name, err)
	}
	return t, nil
}

// RevokeAPIToken deletes the token name at once. It returns ENOTFOUND if
// there is no such token.
func (s *Store) RevokeAPIToken(ctx context.Context, name string) error {
	return s.update(ctx, "revoke token", []string{s.keys.tokens()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			raw, err := hgetBytes(ctx, tx, "revoke token "+name, s.keys.tokens(), name)
			if err != nil {
				return nil, err
			}
			if raw == nil {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "API token %q not found", name)
			}
			var t recipes.APIToken
			if err := json.Unmarshal(raw, &t); err != nil {
				return nil, corrupt(s.keys.tokens()+" "+name, err)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HDel(ctx, s.keys.tokens(), name)
				p.HDel(ctx, s.keys.tokenHash(), t.Hash)
			}, nil
		})
}
