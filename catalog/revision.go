package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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

// changedMembers names the top-level JSON members in which b differs from
// a, updated_at aside, with "translations.<lang>" for each language whose
// words differ. It compares the members' bytes, which encoding/json
// writes the same way for the same values, so it needs no decode: once
// both are known to be JSON, it only finds where members start and end (a
// seed compares 100,000 recipes; decoding them into maps cost more than
// the rest of its plan). It returns nil if either is not JSON.
func changedMembers(a, b []byte) []string {
	if !json.Valid(b) {
		return nil
	}
	return changedFrom(a, b)
}

// changedFrom is [changedMembers] of b, which is JSON this package
// encoded (so checking it again is not needed).
func changedFrom(a, b []byte) []string {
	if !json.Valid(a) || !isObject(a) || !isObject(b) {
		return changedMembersDecoded(a, b)
	}
	var bufA, bufB [32]member
	ma, okA := objectMembers(a, bufA[:0])
	mb, okB := objectMembers(b, bufB[:0])
	if !okA || !okB {
		return changedMembersDecoded(a, b)
	}
	var out []string
	for key := range unionKeys(ma, mb) {
		va, vb := memberValue(ma, key), memberValue(mb, key)
		if string(key) == "updated_at" || bytes.Equal(va, vb) {
			continue
		}
		if string(key) != "translations" {
			out = append(out, string(key))
			continue
		}
		var bufTA, bufTB [8]member
		ta, okA := objectMembers(va, bufTA[:0])
		tb, okB := objectMembers(vb, bufTB[:0])
		if !okA || !okB {
			return changedMembersDecoded(a, b)
		}
		for lang := range unionKeys(ta, tb) {
			if !bytes.Equal(memberValue(ta, lang), memberValue(tb, lang)) {
				out = append(out, "translations."+string(lang))
			}
		}
	}
	slices.Sort(out)
	return out
}

// changedMembersDecoded is [changedMembers] by decoding, for JSON whose
// keys have escapes, which [objectMembers] leaves to encoding/json.
func changedMembersDecoded(a, b []byte) []string {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return nil
	}
	var out []string
	for k := range union(ma, mb) {
		if k == "updated_at" || bytes.Equal(ma[k], mb[k]) {
			continue
		}
		if k != "translations" {
			out = append(out, k)
			continue
		}
		var ta, tb map[string]json.RawMessage
		_ = json.Unmarshal(ma[k], &ta)
		_ = json.Unmarshal(mb[k], &tb)
		for lang := range union(ta, tb) {
			if !bytes.Equal(ta[lang], tb[lang]) {
				out = append(out, "translations."+lang)
			}
		}
	}
	slices.Sort(out)
	return out
}

// member is one member of a JSON object: its key, unquoted, and its value
// as written.
type member struct{ key, val []byte }

// objectMembers appends the top-level members of data, which must be
// valid JSON, to dst. A value that is not an object has none (as
// decoding it into a map gives none). ok is false if a key has an escape
// or a byte beyond ASCII, which only encoding/json should unquote.
func objectMembers(data []byte, dst []member) (_ []member, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst, true
	}
	i++
	for {
		i = skipSpace(data, i)
		switch data[i] {
		case '}':
			return dst, true
		case ',':
			i = skipSpace(data, i+1)
		}
		// data[i] is the opening quote of a key.
		end := i + 1
		for data[end] != '"' {
			if data[end] == '\\' || data[end] >= utf8.RuneSelf {
				return dst, false // escaped, or perhaps not UTF-8: decode
			}
			end++
		}
		key := data[i+1 : end]
		i = skipSpace(data, end+1) + 1 // past the colon
		i = skipSpace(data, i)
		vend := valueEnd(data, i)
		dst = append(dst, member{key, data[i:vend]})
		i = vend
	}
}

// valueEnd returns where the JSON value that starts at data[i] ends; data
// is valid JSON.
func valueEnd(data []byte, i int) int {
	depth := 0
	for j := i; j < len(data); j++ {
		c := data[j]
		switch {
		case c == '"':
			// Skip to the closing quote: the first not preceded by an
			// odd number of backslashes.
			for {
				k := bytes.IndexByte(data[j+1:], '"')
				if k < 0 {
					return len(data)
				}
				j += 1 + k
				bs := 0
				for data[j-1-bs] == '\\' {
					bs++
				}
				if bs%2 == 0 {
					break
				}
			}
			if depth == 0 {
				return j + 1
			}
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			if depth == 0 {
				return j // the end of a literal at the end of its object
			}
			if depth--; depth == 0 {
				return j + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return j // the end of a number, true, false or null
		}
	}
	return len(data)
}

func isObject(data []byte) bool {
	i := skipSpace(data, 0)
	return i < len(data) && data[i] == '{'
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// memberValue returns the value of key in ms, the last one if given twice
// (as decoding does), or nil.
func memberValue(ms []member, key []byte) []byte {
	for i := len(ms) - 1; i >= 0; i-- {
		if bytes.Equal(ms[i].key, key) {
			return ms[i].val
		}
	}
	return nil
}

// unionKeys yields each key of a, then each of b not in a, once.
func unionKeys(a, b []member) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for i, m := range a {
			if memberValue(a[:i], m.key) == nil && !yield(m.key) {
				return
			}
		}
		for i, m := range b {
			if memberValue(b[:i], m.key) == nil && memberValue(a, m.key) == nil && !yield(m.key) {
				return
			}
		}
	}
}

func union(a, b map[string]json.RawMessage) map[string]struct{} {
	out := make(map[string]struct{}, len(a)+len(b))
	for k := range a {
		out[k] = struct{}{}
	}
	for k := range b {
		out[k] = struct{}{}
	}
	return out
}
