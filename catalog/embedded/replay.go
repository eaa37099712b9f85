package embedded

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

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
func (e *Store) durableLocked(ctx context.Context) (*snapshot, error) {
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
func (e *Store) rollbackLocked(ctx context.Context) error {
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
