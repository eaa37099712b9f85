package catalog

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
)

const (
	// defaultCompactAt is the journal size past which it is folded into
	// the snapshot.
	defaultCompactAt = 8 << 20

	// embeddedIOTimeout bounds journaled writes, which run without the
	// caller's deadline (see [embedded.logged]), and reads without one.
	embeddedIOTimeout = 5 * time.Second
)

// embedded is the miniredis behind a store without RedisURL, made durable:
// snapshot + journal under dir, replayed on open (see journal.go).
type embedded struct {
	dir  string
	log  *slog.Logger
	lock *dirLock
	m    *miniredis.Miniredis

	// password keeps other local processes, which could reach the
	// loopback port, from writing past the journal.
	password string

	mu        sync.Mutex // serialises journaled writes: journal order = execution order
	jr        *journal
	compactAt int64
	seq       uint64                       // of the last record written
	failed    atomic.Pointer[journalError] // set once the journal could not be written; writes are refused
	closed    bool
}

// openEmbedded locks dir, loads the snapshot, starts miniredis on a
// loopback port, replays the journal and compacts it.
func openEmbedded(ctx context.Context, opts Options, log *slog.Logger) (_ *embedded, err error) {
	if opts.DataDir == "" {
		return nil, errors.New("catalog: the embedded store (no Redis URL) needs a data directory")
	}
	lock, err := lockDir(opts.DataDir)
	if err != nil {
		return nil, err
	}
	e := &embedded{
		dir: opts.DataDir, log: log, lock: lock, m: miniredis.NewMiniRedis(),
		password: rand.Text(), compactAt: defaultCompactAt,
	}
	e.m.RequireAuth(e.password)
	defer func() {
		if err != nil {
			e.m.Close()
			_ = lock.release()
		}
	}()

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
	if err := syncDir(e.dir); err != nil {
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
	log.Info("embedded catalog store ready", "dir", e.dir, "snapshot_keys", len(snap.Keys), "replayed_records", replayed)
	return e, nil
}

func (e *embedded) path(name string) string { return filepath.Join(e.dir, name) }

// replay applies the journal records newer than snap to m (started, with
// password, and holding snap), advancing m's TTL clock to each record's
// time so that expiries come out as they did, then hands the clock to
// wall time.
func replay(ctx context.Context, m *miniredis.Miniredis, password string, snap *snapshot, recs []record) (int, error) {
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), Password: password, MaxRetries: -1, DisableIdentity: true})
	defer c.Close()
	clock, n := snap.Time, 0
	for _, r := range recs {
		if r.Seq <= snap.Seq {
			continue // already in the snapshot: a crash hit between its rename and the journal truncation
		}
		if r.Time > clock {
			if clock > 0 {
				m.FastForward(time.Duration(r.Time-clock) * time.Millisecond)
			}
			clock = r.Time
		}
		if err := execRecord(ctx, c, r.Cmds); err != nil {
			return n, fmt.Errorf("catalog: replay journal record %d: %w", r.Seq, err)
		}
		n++
	}
	if now := time.Now().UnixMilli(); clock > 0 && now > clock {
		m.FastForward(time.Duration(now-clock) * time.Millisecond)
	}
	m.ClockTTL(true)
	return n, nil
}

// durableLocked rebuilds, in a scratch miniredis, what a restart would
// load now: the snapshot plus the journal's first e.jr.size bytes, which
// are the records appended and fsynced, whatever a failed append left
// behind them. The caller holds e.mu.
func (e *embedded) durableLocked(ctx context.Context) (*snapshot, error) {
	snap, err := readSnapshot(e.path("snapshot"))
	if err != nil {
		return nil, err
	}
	recs, _, err := readJournal(e.path("journal"), e.jr.size, e.log)
	if err != nil {
		return nil, err
	}
	scratch := miniredis.NewMiniRedis()
	defer scratch.Close()
	password := rand.Text()
	scratch.RequireAuth(password)
	if err := snap.restore(scratch); err != nil {
		return nil, fmt.Errorf("catalog: snapshot %s: %w", e.path("snapshot"), err)
	}
	if err := scratch.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("catalog: start scratch redis: %w", err)
	}
	if _, err := replay(ctx, scratch, password, snap, recs); err != nil {
		return nil, err
	}
	return dump(scratch, e.seq)
}

// rollbackLocked makes memory what a restart would load, undoing a write
// that ran but could not be journaled. Readers get LOADING (EUNAVAILABLE)
// while memory is being replaced, never a half-restored catalog. If the
// durable state cannot be read, memory stays fenced off: a store that
// cannot tell what it has saved must not answer from what it has not. The
// caller holds e.mu.
func (e *embedded) rollbackLocked(ctx context.Context) error {
	snap, err := e.durableLocked(ctx)
	if err == nil {
		e.m.SetError(fenceLoading)
		e.m.FlushAll()
		if err = snap.restore(e.m); err == nil {
			e.m.SetError("")
			e.log.Warn("restored the catalog store to its saved state; the unsaved write is undone", "records", e.seq)
			return nil
		}
	}
	e.m.SetError(fenceFailed)
	e.log.Error("cannot restore the catalog store to its saved state; refusing reads and writes until restart", "error", err)
	return err
}

// Replies while memory is being replaced or cannot be trusted; both
// prefixes are ones go-redis callers treat as "not now" (EUNAVAILABLE).
const (
	fenceLoading = "LOADING the catalog store is restoring its saved state"
	fenceFailed  = "LOADING the catalog store lost its journal; restart recipesd"
)

// failure returns why writes are refused, or nil. It does not wait for
// e.mu, which a compaction holds for a while.
func (e *embedded) failure() error {
	if f := e.failed.Load(); f != nil {
		return f
	}
	return nil
}

// execRecord runs one record as it ran originally. Reply errors happened
// the first time too and are ignored; transport errors are not.
func execRecord(ctx context.Context, c *redis.Client, cmds [][]bstr) error {
	args := func(cmd []bstr) []any {
		a := make([]any, len(cmd))
		for i, s := range cmd {
			a[i] = string(s)
		}
		return a
	}
	if len(cmds) == 1 {
		if err := c.Do(ctx, args(cmds[0])...).Err(); err != nil && !isReplyErr(err) {
			return err
		}
		return nil
	}
	_, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, cmd := range cmds {
			p.Do(ctx, args(cmd)...)
		}
		return nil
	})
	if err != nil && !isReplyErr(err) {
		return err
	}
	return nil
}

func isReplyErr(err error) bool {
	var re redis.Error
	return errors.As(err, &re)
}

// client returns the store's go-redis client, with the journal as hook.
func (e *embedded) client(o Options) redis.UniversalClient {
	c := redis.NewClient(&redis.Options{
		Addr:                  e.m.Addr(),
		Password:              e.password,
		ContextTimeoutEnabled: true,
		DialTimeout:           o.Timeout,
		PoolTimeout:           o.Timeout,
		ReadTimeout:           embeddedIOTimeout,
		WriteTimeout:          embeddedIOTimeout,
		// A retried write whose reply was lost would run twice.
		MaxRetries:      -1,
		DialerRetries:   1,
		DisableIdentity: true,
	})
	c.AddHook(e)
	return c
}

// compactLocked folds the journal into a new snapshot. The snapshot
// records the last sequence number it contains, so a crash between its
// rename and the truncation cannot apply a record twice.
func (e *embedded) compactLocked() error {
	snap, err := dump(e.m, e.seq)
	if err != nil {
		return err
	}
	if err := writeSnapshot(e.dir, snap); err != nil {
		return err
	}
	return e.jr.truncate(0)
}

// close compacts (unless the journal failed, in which case the journal
// is the truth), stops miniredis and releases the directory.
func (e *embedded) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var err error
	if e.failed.Load() == nil {
		err = e.compactLocked()
	}
	err = errors.Join(err, e.jr.close())
	e.m.Close()
	return errors.Join(err, e.lock.release())
}
