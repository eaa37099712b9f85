package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Revision history. Every write that changes a recipe's or category's
// editors' copy (create, save, discard, publish, move, delete, restore,
// seed) appends a [recipes.Revision] to the item's history in the SAME
// MULTI/EXEC as the write, so there is never a revision without its write
// nor a write without its revision:
//
//	{p}:rev:rcp:<id>     LIST    revision JSON, newest first, at most
//	{p}:rev:cat:<slug>   LIST    Options.RevisionsKept entries (LTRIM)
//	{p}:rev:seq          HASH    "rcp:<id>" / "cat:<slug>" -> the last
//	                             revision number n, so that a seed reads
//	                             the numbers of many items with a few HMGETs
//	{p}:rev:gone         ZSET    score deletion time (unix ms), member
//	                             "rcp:<id>" / "cat:<slug>": deleted items,
//	                             whose histories are kept (they can be
//	                             restored) but bounded
//
// Deleting an item keeps its history and files it in {p}:rev:gone; every
// later deletion drops, in its own MULTI/EXEC, the histories deleted more
// than Options.DeletedHistoryAge ago and the oldest beyond
// Options.DeletedHistories. Re-creating or restoring the item takes it out
// of the index, and its numbering goes on. So the history is bounded by
// (live items + DeletedHistories) × RevisionsKept entries.
//
// Reordering categories records nothing: a position is placement, not
// content.

// Defaults for the revision options of [Options].
const (
	DefaultRevisionsKept     = 50
	DefaultDeletedHistories  = 10000
	DefaultDeletedHistoryAge = 90 * 24 * time.Hour
)

const (
	revRecipe   = "rcp"
	revCategory = "cat"
)

func (k keys) rev(kind, id string) string { return k.prefix + "rev:" + kind + ":" + id }
func (k keys) revSeq() string             { return k.prefix + "rev:seq" }
func (k keys) revGone() string            { return k.prefix + "rev:gone" }

// revNote is one revision a write records.
type revNote struct {
	kind, id, action string
	from             int64 // restored from
	// The snapshot: snap, or recipe / category encoded when the write is
	// queued (after it stamped UpdatedAt).
	snap     []byte
	recipe   *recipes.Recipe
	category *recipes.Category
	// prev is the copy before the write, for the changed fields; changed,
	// if set, is used instead.
	prev    []byte
	changed []string
	// revived: the item comes back (created, restored, seeded) and leaves
	// the deleted index; deleted: it enters it.
	revived, deleted bool
}

// revisions is what a write appends to histories, worked out under WATCH.
type revisions struct {
	notes []revNote
	n     []int64 // the number of each note's revision
	prune []string
	// anyGone: some deleted histories exist, which a revived item may be
	// one of.
	anyGone bool
	actor   recipes.Actor
	now     time.Time
}

// withRevisions is the hook of an edit: it returns q followed by the
// revisions of notes, or err.
func (s *Store) withRevisions(ctx context.Context, tx *redis.Tx, q queueFunc, err error, notes ...revNote) (queueFunc, error) {
	if err != nil {
		return nil, err
	}
	revs, err := s.prepareRevisions(ctx, tx, notes, true)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, p redis.Pipeliner) {
		if q != nil {
			q(ctx, p)
		}
		s.queue(ctx, p).putRevisions(revs)
	}, nil
}

// prepareRevisions reads the numbers the revisions of notes get and, if
// any deletes, which deleted histories to drop. With watch it WATCHes the
// notes' histories first: an edit watches only its item's keys, and its
// history changes only with them, but a restore or a pruning deletion
// may touch it alone. Whole-catalog writes watch the catalog-wide keys
// every edit changes, and need not.
func (s *Store) prepareRevisions(ctx context.Context, tx *redis.Tx, notes []revNote, watch bool) (*revisions, error) {
	revs := &revisions{notes: notes, n: make([]int64, len(notes)), actor: recipes.ActorFrom(ctx), now: time.Now().UTC()}
	if len(notes) == 0 {
		return revs, nil
	}
	if watch {
		keys := make([]string, len(notes))
		for i, nt := range notes {
			keys[i] = s.keys.rev(nt.kind, nt.id)
		}
		if err := tx.Watch(ctx, keys...).Err(); err != nil {
			return nil, storeErr("read revisions", err)
		}
	}
	deleting := 0
	fields := make([]string, 0, min(len(notes), bulkChunk))
	for start := 0; start < len(notes); start += bulkChunk {
		fields = fields[:0]
		for _, nt := range notes[start:min(start+bulkChunk, len(notes))] {
			fields = append(fields, nt.kind+":"+nt.id)
			if nt.deleted {
				deleting++
			}
		}
		vals, err := tx.HMGet(ctx, s.keys.revSeq(), fields...).Result()
		if err != nil {
			return nil, storeErr("read revisions", err)
		}
		for j, v := range vals {
			var last int64
			if v, ok := v.(string); ok {
				if last, err = strconv.ParseInt(v, 10, 64); err != nil {
					return nil, corrupt(s.keys.revSeq()+" "+fields[j], err)
				}
			}
			revs.n[start+j] = last + 1
		}
	}
	if slices.ContainsFunc(notes, func(nt revNote) bool { return nt.revived }) {
		// A seed revives many items; most often none was deleted.
		n, err := tx.ZCard(ctx, s.keys.revGone()).Result()
		if err != nil {
			return nil, storeErr("read revisions", err)
		}
		revs.anyGone = n > 0
	}
	if deleting > 0 {
		prune, err := s.planPrune(ctx, tx, deleting, revs.now)
		if err != nil {
			return nil, err
		}
		// An item coming back in the same write keeps its history.
		revs.prune = slices.DeleteFunc(prune, func(m string) bool {
			return slices.ContainsFunc(notes, func(nt revNote) bool { return nt.revived && nt.kind+":"+nt.id == m })
		})
	}
	return revs, nil
}

// planPrune returns the deleted histories to drop when deleting more
// items: those deleted before the age bound, and the oldest beyond the
// count bound once deleting are added.
func (s *Store) planPrune(ctx context.Context, tx *redis.Tx, deleting int, now time.Time) ([]string, error) {
	gone := s.keys.revGone()
	// What is dropped must still be deleted when the MULTI runs: a restore
	// meanwhile takes it out of the index, which aborts this write.
	if err := tx.Watch(ctx, gone).Err(); err != nil {
		return nil, storeErr("prune revisions", err)
	}
	cutoff := now.Add(-s.opts.DeletedHistoryAge).UnixMilli()
	old, err := tx.ZRangeByScore(ctx, gone, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(cutoff, 10), Count: bulkChunk}).Result()
	if err != nil {
		return nil, storeErr("prune revisions", err)
	}
	total, err := tx.ZCard(ctx, gone).Result()
	if err != nil {
		return nil, storeErr("prune revisions", err)
	}
	if excess := total - int64(len(old)) + int64(deleting) - int64(s.opts.DeletedHistories); excess > 0 {
		more, err := tx.ZRange(ctx, gone, int64(len(old)), int64(len(old))+excess-1).Result()
		if err != nil {
			return nil, storeErr("prune revisions", err)
		}
		old = append(old, more...)
	}
	return old, nil
}

// putRevisions queues revs. Each history is a key of its own, so LPUSH
// and LTRIM go one by one even in a bulk batch; the numbers and the
// deleted index are grouped.
func (b *batch) putRevisions(revs *revisions) {
	if revs == nil {
		return
	}
	kept := int64(b.revisionsKept)
	ms := revs.now.UnixMilli()
	for i, nt := range revs.notes {
		n := revs.n[i]
		key := b.keys.rev(nt.kind, nt.id)
		b.p.Do(b.ctx, "lpush", key, encodeRevision(nt, n, revs.actor, revs.now))
		if n > kept {
			b.p.Do(b.ctx, "ltrim", key, 0, kept-1)
		}
		member := nt.kind + ":" + nt.id
		b.add("hset", b.keys.revSeq(), member, n)
		switch {
		case nt.deleted:
			b.add("zadd", b.keys.revGone(), ms, member)
		case nt.revived && revs.anyGone:
			b.add("zrem", b.keys.revGone(), member)
		}
	}
	for _, member := range revs.prune {
		kind, id, _ := strings.Cut(member, ":")
		b.add("del", b.keys.rev(kind, id))
		b.add("hdel", b.keys.revSeq(), member)
		b.add("zrem", b.keys.revGone(), member)
	}
}

// revHead is a revision's JSON without its snapshot.
type revHead struct {
	N       int64         `json:"n"`
	Time    time.Time     `json:"time"`
	Actor   recipes.Actor `json:"actor"`
	Action  string        `json:"action"`
	From    int64         `json:"from,omitempty"`
	Changed []string      `json:"changed,omitempty"`
}

// encodeRevision returns the JSON of a [recipes.Revision]: the head, then
// the snapshot as it is, not encoded again (a seed writes many).
func encodeRevision(nt revNote, n int64, actor recipes.Actor, now time.Time) []byte {
	snap := nt.snapshot()
	changed := nt.changed
	if changed == nil && nt.prev != nil && !nt.revived && !nt.deleted {
		changed = changedMembers(nt.prev, snap)
	}
	head, _ := json.Marshal(revHead{N: n, Time: now, Actor: actor, Action: nt.action, From: nt.from, Changed: changed})
	member := `,"recipe":`
	if nt.kind == revCategory {
		member = `,"category":`
	}
	out := make([]byte, 0, len(head)+len(member)+len(snap)+1)
	out = append(out, head[:len(head)-1]...)
	out = append(out, member...)
	out = append(out, snap...)
	return append(out, '}')
}

func (nt revNote) snapshot() []byte {
	var v any
	switch {
	case nt.snap != nil:
		return nt.snap
	case nt.recipe != nil:
		v = nt.recipe
	case nt.category != nil:
		v = nt.category
	default:
		return []byte("null")
	}
	b, err := json.Marshal(v)
	if err != nil { // plain structs: cannot fail
		panic(fmt.Sprintf("catalog: encode snapshot of %s %s: %v", nt.kind, nt.id, err))
	}
	return b
}
