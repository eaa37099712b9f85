package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Moving the keys of the first layout. Until this release a device's hash
// lived at {p}:dev:<id>, every last-seen time in one hash {p}:devseen and
// a staff session at {p}:staff:sess:<hash>, all in the catalog's slot;
// now they carry hash tags of their own (keys.go). [Open] moves them once,
// before the store serves:
//
//   - idempotent and resumable: each key is copied to its new name only if
//     that name is still free (a copy made before a crash, or a newer
//     write, wins), then the old key is deleted; a crash anywhere leaves
//     old keys the next start copies, or deletes as already copied;
//   - one mover at a time: the mover holds {p}:identity:migrating (a lock
//     with a TTL, renewed before every chunk, so that a mover that died
//     hands over to the next starting node); the others wait until
//     {p}:identity:layout says the move is done, and nobody serves before;
//   - once done, a start costs one GET.
//
// Nodes of an older release do not read the new keys: stop them all before
// the first node of this release starts (a rolling upgrade starts after
// that).

const (
	layoutVersion = "2"
	migrateLock   = 15 * time.Second // a mover renews it before every chunk
	migratePoll   = 100 * time.Millisecond
)

// Open returns the registry kept in rdb, once keys of an older layout are
// moved (see above). It returns EUNAVAILABLE if Redis cannot be reached,
// and ctx's error if it ends while another node is moving them.
func Open(ctx context.Context, rdb redis.UniversalClient, opts Options) (*Store, error) {
	s := New(rdb, opts)
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// copyHashScript sets the hash KEYS[1] to the fields and values in ARGV,
// only if KEYS[1] does not exist.
const copyHashScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1`

// renewLockScript extends the lock KEYS[1] to ARGV[2] ms if ARGV[1] still
// holds it; releaseLockScript deletes it if so.
const (
	renewLockScript   = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
	releaseLockScript = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`
)

func (s *Store) migrate(ctx context.Context) error {
	const op = "move keys to the new layout"
	token := rand.Text()
	for {
		rctx, cancel := s.edge.RT(ctx)
		done, err := s.rdb.Get(rctx, s.keys.layout).Result()
		if err == nil && done == layoutVersion {
			cancel()
			return nil
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			cancel()
			return s.edge.Err(op, err)
		}
		got, err := s.rdb.SetNX(rctx, s.keys.migrating, token, migrateLock).Result()
		cancel()
		if err != nil {
			return s.edge.Err(op, err)
		}
		if got {
			break
		}
		s.log.Info("another node is moving keys to the new layout; waiting")
		select {
		case <-ctx.Done():
			return fmt.Errorf("identity: wait for another node to move keys to the new layout: %w", ctx.Err())
		case <-time.After(migratePoll):
		}
	}
	defer func() {
		rctx, cancel := s.edge.RT(context.WithoutCancel(ctx))
		defer cancel()
		s.rdb.Eval(rctx, releaseLockScript, []string{s.keys.migrating}, token)
	}()
	held := func() error {
		rctx, cancel := s.edge.RT(ctx)
		defer cancel()
		n, err := s.rdb.Eval(rctx, renewLockScript, []string{s.keys.migrating}, token, migrateLock.Milliseconds()).Int()
		if err != nil {
			return s.edge.Err(op, err)
		}
		if n == 0 {
			return fmt.Errorf("identity: %s: lost the lock %s to another node", op, s.keys.migrating)
		}
		return nil
	}
	start := time.Now()
	devs, err := s.migrateDevices(ctx, held)
	if err != nil {
		return err
	}
	sess, err := s.migrateSessions(ctx, held)
	if err != nil {
		return err
	}
	if err := held(); err != nil {
		return err
	}
	rctx, cancel := s.edge.RT(ctx)
	defer cancel()
	_, err = s.rdb.TxPipelined(rctx, func(p redis.Pipeliner) error {
		p.Del(rctx, s.keys.oldSeen())
		p.Set(rctx, s.keys.layout, layoutVersion, 0)
		return nil
	})
	if err != nil {
		return s.edge.Err(op, err)
	}
	if devs+sess > 0 {
		s.log.Info("moved keys to the new layout", "devices", devs, "sessions", sess, "took", time.Since(start))
	}
	return nil
}

// migrateDevices moves every listed device's hash and last-seen time, a
// chunk at a time, and returns how many hashes it moved.
func (s *Store) migrateDevices(ctx context.Context, held func() error) (int, error) {
	const op = "move devices to the new layout"
	rctx, cancel := s.edge.RT(ctx)
	ids, err := s.rdb.SMembers(rctx, s.keys.devices).Result()
	cancel()
	if err != nil {
		return 0, s.edge.Err(op, err)
	}
	moved := 0
	for start := 0; start < len(ids); start += scriptChunk {
		chunk := ids[start:min(start+scriptChunk, len(ids))]
		if err := held(); err != nil {
			return moved, err
		}
		rctx, cancel := context.WithTimeout(ctx, 4*s.edge.Timeout())
		hashes := make([]*redis.MapStringStringCmd, len(chunk))
		var seen *redis.SliceCmd
		_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, id := range chunk {
				hashes[i] = p.HGetAll(rctx, s.keys.oldDev(id))
			}
			seen = p.HMGet(rctx, s.keys.oldSeen(), chunk...)
			return nil
		})
		if err != nil {
			cancel()
			return moved, s.edge.Err(op, err)
		}
		var old []string
		_, err = s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, id := range chunk {
				if h := hashes[i].Val(); len(h) > 0 {
					args := make([]any, 0, 2*len(h))
					for f, v := range h {
						args = append(args, f, v)
					}
					p.Eval(rctx, copyHashScript, []string{s.keys.dev(id)}, args...)
					old = append(old, s.keys.oldDev(id))
				}
				if v, ok := seen.Val()[i].(string); ok {
					p.SetNX(rctx, s.keys.seen(id), v, 0)
				}
			}
			return nil
		})
		if err == nil && len(old) > 0 {
			err = s.dropMoved(rctx, old, func(p redis.Pipeliner) { p.HDel(rctx, s.keys.oldSeen(), chunk...) })
		}
		cancel()
		if err != nil {
			return moved, s.edge.Err(op, err)
		}
		moved += len(old)
	}
	return moved, nil
}

// dropMoved deletes the old keys of a chunk, and whatever more adds to the
// same pipeline, only once every copy of the chunk is made: a crash before
// leaves the old keys to copy again.
func (s *Store) dropMoved(ctx context.Context, old []string, more func(redis.Pipeliner)) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range old {
			p.Del(ctx, k)
		}
		if more != nil {
			more(p)
		}
		return nil
	})
	return err
}

// migrateSessions moves the staff sessions listed in every account's set,
// keeping their time to live, and returns how many it moved.
func (s *Store) migrateSessions(ctx context.Context, held func() error) (int, error) {
	const op = "move staff sessions to the new layout"
	rctx, cancel := s.edge.RT(ctx)
	names, err := s.rdb.HKeys(rctx, s.keys.users).Result()
	cancel()
	if err != nil {
		return 0, s.edge.Err(op, err)
	}
	moved := 0
	for _, name := range names {
		if err := held(); err != nil {
			return moved, err
		}
		rctx, cancel := context.WithTimeout(ctx, 4*s.edge.Timeout())
		hashes, err := s.rdb.SMembers(rctx, s.keys.staffSessions(name)).Result()
		if err != nil {
			cancel()
			return moved, s.edge.Err(op, err)
		}
		vals := make([]*redis.StringCmd, len(hashes))
		ttls := make([]*redis.DurationCmd, len(hashes))
		cmds, _ := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, h := range hashes {
				vals[i] = p.Get(rctx, s.keys.oldSession(h))
				ttls[i] = p.PTTL(rctx, s.keys.oldSession(h))
			}
			return nil
		})
		if err := pipelineErr(cmds); err != nil {
			cancel()
			return moved, s.edge.Err(op, err)
		}
		var old []string
		_, err = s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, h := range hashes {
				if vals[i].Err() != nil {
					continue // expired, or moved already
				}
				ttl := ttls[i].Val()
				if ttl < 0 {
					ttl = 0 // none
				}
				p.SetNX(rctx, s.keys.session(h), vals[i].Val(), ttl)
				old = append(old, s.keys.oldSession(h))
			}
			return nil
		})
		if err == nil && len(old) > 0 {
			err = s.dropMoved(rctx, old, nil)
		}
		cancel()
		if err != nil {
			return moved, s.edge.Err(op, err)
		}
		moved += len(old)
	}
	return moved, nil
}
