package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// API tokens: the credentials of programs using the JSON API. The store
// keeps only [hashSecret] of a token's secret.

// tokenPrefix starts every API token, so that one pasted by mistake is
// easy to recognise (and for secret scanners).
const tokenPrefix = "rcpd_"

// APITokens returns every API token by name.
func (s *Store) APITokens(ctx context.Context) ([]recipes.APIToken, error) {
	return listHash(ctx, s, s.keys.tokens, "list tokens", func(t *recipes.APIToken) string { return t.Name })
}

// CreateAPIToken creates the API token name, allowed scopes, on behalf of
// createdBy and returns its secret, which is stored only as a hash and
// must be shown once. It returns EINVALID for a bad name or scopes and
// ECONFLICT if the name is taken.
func (s *Store) CreateAPIToken(ctx context.Context, name, createdBy string, scopes []string) (string, error) {
	if err := recipes.CheckName("token", name); err != nil {
		return "", err
	}
	if err := recipes.CheckScopes(scopes); err != nil {
		return "", err
	}
	secret := tokenPrefix + rand.Text() + rand.Text()
	t := recipes.APIToken{Name: name, Hash: hashSecret(secret), CreatedBy: createdBy, CreatedAt: time.Now().UTC(), Scopes: scopes}
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("identity: encode token %s: %w", t.Name, err)
	}
	err = s.edge.Update(ctx, "add token", 4, []string{s.keys.tokens},
		func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
			taken, err := tx.HExists(ctx, s.keys.tokens, t.Name).Result()
			if err != nil {
				return nil, s.edge.Err("add token "+t.Name, err)
			}
			if taken {
				return nil, recipes.Errorf(recipes.ECONFLICT, "an API token named %q already exists", t.Name)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HSet(ctx, s.keys.tokens, t.Name, b)
				p.HSet(ctx, s.keys.tokHash, t.Hash, t.Name)
			}, nil
		})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// APIToken returns the token whose secret is secret, or ENOTFOUND if there
// is none (never was, or revoked).
func (s *Store) APIToken(ctx context.Context, secret string) (recipes.APIToken, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	notFound := recipes.Errorf(recipes.ENOTFOUND, "API token not found")
	name, err := s.rdb.HGet(ctx, s.keys.tokHash, hashSecret(secret)).Result()
	if errors.Is(err, redis.Nil) {
		return recipes.APIToken{}, notFound
	}
	if err != nil {
		return recipes.APIToken{}, s.edge.Err("find token", err)
	}
	raw, err := s.rdb.HGet(ctx, s.keys.tokens, name).Bytes()
	if errors.Is(err, redis.Nil) {
		return recipes.APIToken{}, notFound // revoked in between
	}
	if err != nil {
		return recipes.APIToken{}, s.edge.Err("find token", err)
	}
	var t recipes.APIToken
	if err := json.Unmarshal(raw, &t); err != nil {
		return recipes.APIToken{}, corrupt(s.keys.tokens+" "+name, err)
	}
	return t, nil
}

// RevokeAPIToken deletes the token name at once. It returns ENOTFOUND if
// there is no such token.
func (s *Store) RevokeAPIToken(ctx context.Context, name string) error {
	return s.edge.Update(ctx, "revoke token", 4, []string{s.keys.tokens},
		func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
			raw, err := s.edge.Bytes("revoke token "+name, tx.HGet(ctx, s.keys.tokens, name))
			if err != nil {
				return nil, err
			}
			if raw == nil {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "API token %q not found", name)
			}
			var t recipes.APIToken
			if err := json.Unmarshal(raw, &t); err != nil {
				return nil, corrupt(s.keys.tokens+" "+name, err)
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HDel(ctx, s.keys.tokens, name)
				p.HDel(ctx, s.keys.tokHash, t.Hash)
			}, nil
		})
}
