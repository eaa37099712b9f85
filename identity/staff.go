package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Staff accounts, their sessions (session.go) and API tokens (token.go).
// Passwords are stored only as bcrypt hashes (password.go), session ids
// and token secrets only as [hashSecret] of them.

// Staff returns the staff account name, or ENOTFOUND.
func (s *Store) Staff(ctx context.Context, name string) (recipes.Staff, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var st recipes.Staff
	raw, err := s.rdb.HGet(ctx, s.keys.users, name).Bytes()
	if errors.Is(err, redis.Nil) {
		return st, recipes.Errorf(recipes.ENOTFOUND, "staff account %q not found", name)
	}
	if err != nil {
		return st, s.edge.Err("get staff "+name, err)
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, corrupt(s.keys.users+" "+name, err)
	}
	return st, nil
}

// StaffList returns every staff account by name.
func (s *Store) StaffList(ctx context.Context) ([]recipes.Staff, error) {
	return listHash(ctx, s, s.keys.users, "list staff", func(st *recipes.Staff) string { return st.Name })
}

// listHash decodes every JSON value of the hash at key, sorted by name.
func listHash[T any](ctx context.Context, s *Store, key, op string, name func(*T) string) ([]T, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	all, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, s.edge.Err(op, err)
	}
	out := make([]T, 0, len(all))
	for field, js := range all {
		var v T
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			return nil, corrupt(key+" "+field, err)
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b T) int { return strings.Compare(name(&a), name(&b)) })
	return out, nil
}

// CountStaff returns how many staff accounts exist.
func (s *Store) CountStaff(ctx context.Context) (int, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	n, err := s.rdb.HLen(ctx, s.keys.users).Result()
	if err != nil {
		return 0, s.edge.Err("count staff", err)
	}
	return int(n), nil
}

// addStaff stores a new staff account. It returns EINVALID for a bad name
// and ECONFLICT if the name is taken.
func (s *Store) addStaff(ctx context.Context, st recipes.Staff) error {
	if err := recipes.CheckName("staff", st.Name); err != nil {
		return err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("identity: encode staff %s: %w", st.Name, err)
	}
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	added, err := s.rdb.HSetNX(ctx, s.keys.users, st.Name, b).Result()
	if err != nil {
		return s.edge.Err("add staff "+st.Name, err)
	}
	if !added {
		return recipes.Errorf(recipes.ECONFLICT, "staff account %q already exists", st.Name)
	}
	return nil
}

// updateStaff replaces an existing staff account, typically with a new
// password hash, and ends all its sessions. It returns ENOTFOUND if there
// is no such account.
//
// The sessions live in slots of their own (keys.go), so they are deleted
// before the MULTI/EXEC that changes the account and drops the account's
// set of sessions, while that set is WATCHed: a login listing a session
// meanwhile makes the write start again and end that session too. A
// failure after the deletion ends sessions without changing the account,
// never the other way round.
func (s *Store) updateStaff(ctx context.Context, st recipes.Staff) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("identity: encode staff %s: %w", st.Name, err)
	}
	sessions := s.keys.staffSessions(st.Name)
	return s.edge.Update(ctx, "update staff", 4, []string{s.keys.users, sessions},
		func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
			ok, err := tx.HExists(ctx, s.keys.users, st.Name).Result()
			if err != nil {
				return nil, s.edge.Err("update staff "+st.Name, err)
			}
			if !ok {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "staff account %q not found", st.Name)
			}
			hashes, err := tx.SMembers(ctx, sessions).Result()
			if err != nil {
				return nil, s.edge.Err("update staff "+st.Name, err)
			}
			if len(hashes) > 0 {
				_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, h := range hashes {
						p.Del(ctx, s.keys.session(h))
					}
					return nil
				})
				if err != nil {
					return nil, s.edge.Err("end the sessions of "+st.Name, err)
				}
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HSet(ctx, s.keys.users, st.Name, b)
				p.Del(ctx, sessions)
			}, nil
		})
}
