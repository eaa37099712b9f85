package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Staff sessions. The id handed to the browser is a secret of 260 random
// bits; the store keeps only [hashSecret] of it, so that whoever reads
// the store cannot sign in with what they find there.

// touchEvery is how stale a session's expiry may get before a read extends
// it: extending it on every request would journal (and, embedded, fsync)
// a write per page view.
const touchEvery = time.Minute

// CreateSession starts sess, to expire after idle without use, and returns
// its id, the secret that finds it again.
func (s *Store) CreateSession(ctx context.Context, sess recipes.Session, idle time.Duration) (string, error) {
	b, err := json.Marshal(sess)
	if err != nil {
		return "", fmt.Errorf("identity: encode session: %w", err)
	}
	id := rand.Text() + rand.Text()
	hash := hashSecret(id)
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	// Forget sessions of this account that have expired since.
	others, err := s.rdb.SMembers(ctx, s.keys.staffSessions(sess.Staff)).Result()
	if err != nil {
		return "", s.edge.Err("create session", err)
	}
	live := make([]*redis.IntCmd, len(others))
	if len(others) > 0 {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range others {
				live[i] = p.Exists(ctx, s.keys.session(h))
			}
			return nil
		})
		if err != nil {
			return "", s.edge.Err("create session", err)
		}
	}
	// The session lives in a slot of its own (keys.go): it is listed in
	// its account's set first, so that a password change ending every
	// listed session either sees it or makes this login's set write
	// conflict; a session cut short between the two leaves a hash the
	// next login of the account forgets.
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, s.keys.staffSessions(sess.Staff), hash)
		for i, h := range others {
			if live[i].Val() == 0 {
				p.SRem(ctx, s.keys.staffSessions(sess.Staff), h)
			}
		}
		return nil
	})
	if err != nil {
		return "", s.edge.Err("create session", err)
	}
	if err := s.rdb.Set(ctx, s.keys.session(hash), b, idle).Err(); err != nil {
		return "", s.edge.Err("create session", err)
	}
	return id, nil
}

// Session returns the session id finds and extends its life to idle. It
// returns ENOTFOUND if there is none, or it expired.
func (s *Store) Session(ctx context.Context, id string, idle time.Duration) (recipes.Session, error) {
	key := s.keys.session(hashSecret(id))
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var sess recipes.Session
	var get *redis.StringCmd
	var ttl *redis.DurationCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		ttl = p.PTTL(ctx, key)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return sess, recipes.Errorf(recipes.ENOTFOUND, "session not found")
	}
	if err != nil {
		return sess, s.edge.Err("get session", err)
	}
	if err := json.Unmarshal([]byte(get.Val()), &sess); err != nil {
		return sess, corrupt(key, err)
	}
	if left := ttl.Val(); left > 0 && left < idle-min(touchEvery, idle/2) {
		if err := s.rdb.PExpire(ctx, key, idle).Err(); err != nil {
			return sess, s.edge.Err("extend session", err)
		}
	}
	return sess, nil
}

// DeleteSession ends the session id finds; ending one that does not exist
// is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	hash := hashSecret(id)
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	raw, err := s.rdb.Get(ctx, s.keys.session(hash)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return s.edge.Err("delete session", err)
	}
	var sess recipes.Session
	_ = json.Unmarshal(raw, &sess)
	// The session first (it is what signs in), then its entry in the
	// account's set, in another slot (keys.go).
	if err := s.rdb.Del(ctx, s.keys.session(hash)).Err(); err != nil {
		return s.edge.Err("delete session", err)
	}
	if sess.Staff == "" {
		return nil
	}
	return s.edge.Err("delete session", s.rdb.SRem(ctx, s.keys.staffSessions(sess.Staff), hash).Err())
}
