// Package embedded is the default catalog store: a miniredis made
// durable. Every write is applied, appended to a journal and fsynced before
// its caller sees the result; the journal is folded into a snapshot on
// open, on close and when it grows; a lock on the data directory keeps a
// second process out. It hands out a go-redis client, so nothing above it
// knows whether it talks to this store or to a real Redis.
package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/atomicfile"
)

// Options configures [Open].
type Options struct {
	Dir     string        // the data directory; required
	Timeout time.Duration // to get a connection; default 300ms
	Logger  *slog.Logger  // nil discards logs
}

// DefaultTimeout is the default [Options.Timeout].
const DefaultTimeout = 300 * time.Millisecond

func (o *Options) ensureDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

const (
	// defaultCompactAt is the journal size past which it is folded into
	// the snapshot.
	defaultCompactAt = 8 << 20

	// ioTimeout bounds journaled writes, which run without the caller's
	// deadline (see [Store.logged]), and reads without one.
	ioTimeout = 5 * time.Second
)

// Store is the miniredis behind a server without a Redis URL, made
// durable: snapshot + journal under its directory, replayed on open (see
// journal.go). Create it with [Open]; use it through [Store.Client].
type Store struct {
	dir  string
	log  *slog.Logger
	lock *dirLock
	m    *miniredis.Miniredis
	db   *miniredis.RedisDB // m's only database, for signal.go; DB(0) would advance m's clock each time
	rdb  *redis.Client
	raw  *redis.Client // without the hook, for what signal.go must send

	// noField is a hash field no client knows, so no hash has it (see
	// [Store.signal]).
	noField string

	// password keeps other local processes, which could reach the
	// loopback port, from writing past the journal.
	password string

	mu        sync.Mutex // serialises journaled writes: journal order = execution order
	jr        *journal
	compactAt int64
	seq       uint64                       // of the last record written
	failed    atomic.Pointer[JournalError] // set once the journal could not be written; writes are refused
	closed    bool

	closeOnce sync.Once
	closeErr  error
}

// Open locks opts.Dir, loads the snapshot, starts miniredis on a loopback
// port, replays the journal and compacts it. It returns a [*LockedError]
// if another process uses the directory.
func Open(ctx context.Context, opts Options) (_ *Store, err error) {
	opts.ensureDefaults()
	if opts.Dir == "" {
		return nil, errors.New("catalog: the embedded store (no Redis URL) needs a data directory")
	}
	log := opts.Logger.With("component", "catalog")
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	e := &Store{
		dir: opts.Dir, log: log, lock: lock, m: miniredis.NewMiniRedis(),
		password: rand.Text(), compactAt: defaultCompactAt, noField: "\x00watch:" + rand.Text(),
	}
	e.m.RequireAuth(e.password)
	defer func() {
		if err != nil {
			e.m.Close()
			_ = lock.release()
		}
	}()

	removeStaleSnapshots(e.dir)
	snap, err := readSnapshot(e.path("snapshot"))
	if err != nil {
		return nil, err
	}
	if err := snap.restore(e.m); err != nil {
		return nil, fmt.Errorf("catalog: snapshot %s: %w", e.path("snapshot"), err)
	}
	recs, size, err := readJournal(e.path("journal"), -1, log)
	if err != nil {
		return nil, err
	}
	if err := e.m.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("catalog: start embedded redis: %w", err)
	}
	replayed, err := replay(ctx, e.m, e.password, snap, recs)
	if err != nil {
		return nil, err
	}
	e.seq = snap.Seq
	if len(recs) > 0 {
		e.seq = max(e.seq, recs[len(recs)-1].Seq)
	}
	if e.jr, err = openJournal(e.path("journal"), size); err != nil {
		return nil, err
	}
	if err := atomicfile.SyncDir(e.dir); err != nil {
		_ = e.jr.close()
		return nil, fmt.Errorf("catalog: sync data directory: %w", err)
	}
	if size > 0 {
		e.mu.Lock()
		err = e.compactLocked()
		e.mu.Unlock()
		if err != nil {
			_ = e.jr.close()
			return nil, err
		}
	}
	e.db = e.m.DB(0)
	e.rdb = e.newClient(opts.Timeout)
	e.raw = redis.NewClient(&redis.Options{
		Addr: e.m.Addr(), Password: e.password, ContextTimeoutEnabled: true,
		DialTimeout: opts.Timeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout,
		PoolSize: 1, MaxRetries: -1, DisableIdentity: true,
	})
	log.Info("embedded catalog store ready", "dir", e.dir, "snapshot_keys", len(snap.Keys), "replayed_records", replayed)
	return e, nil
}

// Client returns the store's go-redis client. Its every write is journaled
// (see hook.go); a PING fails with the [*JournalError] once writes are
// refused, so a health check through the client sees what the store
// cannot do. [Store.Close] closes it.
func (e *Store) Client() redis.UniversalClient { return e.rdb }

// failure returns the [*JournalError] for which the store refuses writes,
// or nil. It does not wait for e.mu, which a compaction holds for a while.
func (e *Store) failure() error {
	if f := e.failed.Load(); f != nil {
		return f
	}
	return nil
}

func (e *Store) path(name string) string { return filepath.Join(e.dir, name) }

// newClient returns a go-redis client of the store, with the journal as
// hook.
func (e *Store) newClient(timeout time.Duration) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:                  e.m.Addr(),
		Password:              e.password,
		ContextTimeoutEnabled: true,
		DialTimeout:           timeout,
		PoolTimeout:           timeout,
		ReadTimeout:           ioTimeout,
		WriteTimeout:          ioTimeout,
		// A retried write whose reply was lost would run twice.
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	})
	c.AddHook(journalHook{e})
	return c
}

// compactLocked folds the journal into a new snapshot. The snapshot
// records the last sequence number it contains, so a crash between its
// rename and the truncation cannot apply a record twice.
func (e *Store) compactLocked() error {
	snap, err := dump(e.m, e.seq)
	if err != nil {
		return err
	}
	if err := writeSnapshot(e.dir, snap); err != nil {
		return err
	}
	return e.jr.truncate(0)
}

// Close closes the client, compacts (unless the journal failed, in which
// case the journal is the truth), stops miniredis and releases the
// directory. It is safe to call more than once.
func (e *Store) Close() error {
	e.closeOnce.Do(func() { e.closeErr = e.close() })
	return e.closeErr
}

func (e *Store) close() error {
	err := errors.Join(e.rdb.Close(), e.raw.Close())
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	if e.failed.Load() == nil {
		err = errors.Join(err, e.compactLocked())
	}
	err = errors.Join(err, e.jr.close())
	e.m.Close()
	if err = errors.Join(err, e.lock.release()); err != nil {
		return fmt.Errorf("catalog: close: %w", err)
	}
	return nil
}
