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

// changeStaff applies change to the staff account name and stores it,
// ending all its sessions when endSessions is set. It returns ENOTFOUND if
// there is no such account, change's error as it is, and ECONFLICT if the
// change would leave no enabled admin (see [lastAdmin]).
//
// The whole staff hash is read under WATCH: the guard must see the other
// accounts as the write commits, or two admins demoting each other at the
// same moment would both succeed and leave none.
//
// The sessions live in slots of their own (keys.go), so they are deleted
// before the MULTI/EXEC that changes the account and drops the account's
// set of sessions, while that set is WATCHed: a login listing a session
// meanwhile makes the write start again and end that session too. A
// failure after the deletion ends sessions without changing the account,
// never the other way round.
func (s *Store) changeStaff(ctx context.Context, name string, endSessions bool, change func(st *recipes.Staff) error) (recipes.Staff, error) {
	var out recipes.Staff
	sessions := s.keys.staffSessions(name)
	err := s.edge.Update(ctx, "update staff", 4, []string{s.keys.users, sessions},
		func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
			all, err := tx.HGetAll(ctx, s.keys.users).Result()
			if err != nil {
				return nil, s.edge.Err("update staff "+name, err)
			}
			raw, ok := all[name]
			if !ok {
				return nil, recipes.Errorf(recipes.ENOTFOUND, "staff account %q not found", name)
			}
			var before recipes.Staff
			if err := json.Unmarshal([]byte(raw), &before); err != nil {
				return nil, corrupt(s.keys.users+" "+name, err)
			}
			st := before
			if err := change(&st); err != nil {
				return nil, err
			}
			if err := lastAdmin(all, before, st); err != nil {
				return nil, err
			}
			b, err := json.Marshal(st)
			if err != nil {
				return nil, fmt.Errorf("identity: encode staff %s: %w", name, err)
			}
			out = st
			if !endSessions {
				return func(ctx context.Context, p redis.Pipeliner) { p.HSet(ctx, s.keys.users, name, b) }, nil
			}
			hashes, err := tx.SMembers(ctx, sessions).Result()
			if err != nil {
				return nil, s.edge.Err("update staff "+name, err)
			}
			if len(hashes) > 0 {
				_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					for _, h := range hashes {
						p.Del(ctx, s.keys.session(h))
					}
					return nil
				})
				if err != nil {
					return nil, s.edge.Err("end the sessions of "+name, err)
				}
			}
			return func(ctx context.Context, p redis.Pipeliner) {
				p.HSet(ctx, s.keys.users, name, b)
				p.Del(ctx, sessions)
			}, nil
		})
	return out, err
}

// lastAdmin returns ECONFLICT if changing before into after takes away
// the last enabled admin: nobody could then manage staff, devices or
// tokens from the admin UI. all is the staff hash as read.
func lastAdmin(all map[string]string, before, after recipes.Staff) error {
	active := func(st recipes.Staff) bool { return !st.Disabled && st.EffectiveRole() == recipes.RoleAdmin }
	if !active(before) || active(after) {
		return nil
	}
	for name, raw := range all {
		var st recipes.Staff
		if name != before.Name && json.Unmarshal([]byte(raw), &st) == nil && active(st) {
			return nil
		}
	}
	return recipes.Errorf(recipes.ECONFLICT,
		"%q is the last enabled admin: make another account an admin first, or nobody could manage staff, devices and tokens", before.Name)
}
