package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The write half of a published [Store.Sync]: JSON encoded once, stamped in place with
// its UpdatedAt, and queued as a few large commands.

// ErrOutcomeUnknown is wrapped by the error of a write whose MULTI/EXEC
// was sent but whose answer never came (or came with an error): it may
// have been applied, in full or in part. Anything made for that write and
// kept nowhere else, such as the secrets issued to new devices, must then
// be kept.
var ErrOutcomeUnknown = errors.New("catalog: the write may have been applied")

// roomyEncoder encodes values as json.Marshal does, each into a slice of
// its own with room to stamp it in place (see [stampJSON]).
type roomyEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func (e *roomyEncoder) encode(v any) ([]byte, error) {
	if e.enc == nil {
		e.enc = json.NewEncoder(&e.buf)
	}
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	return append(make([]byte, 0, len(b)+stampRoom), b...), nil
}

// stampRoom is enough for `,"updated_at":"2006-01-02T15:04:05.999999999Z"`.
const stampRoom = 48

const stampKey = `,"updated_at":`

// jsonBody returns the JSON object of a category, recipe or summary
// without its closing brace and without its updated_at member, which
// encoding/json writes last.
func jsonBody[T string | []byte](b T) T {
	if len(b) > 0 && b[len(b)-1] == '}' {
		b = b[:len(b)-1]
	}
	// The member, if any, is near the end: look no further.
	tail := max(len(b)-64, 0)
	i := strings.LastIndex(string(b[tail:]), stampKey)
	if i < 0 {
		return b
	}
	i += tail
	// A quote inside a JSON string is escaped, so the key found is the
	// top-level member if the value after it is one string.
	if v := string(b[i+len(stampKey):]); len(v) < 2 || v[0] != '"' || strings.IndexByte(v[1:], '"') != len(v)-2 {
		return b
	}
	return b[:i]
}

// sameJSON reports whether a stored encoding and a new one differ at most
// in updated_at.
func sameJSON(stored string, enc []byte) bool {
	return jsonBody(stored) == string(jsonBody(enc))
}

// stampJSON sets the updated_at member of b, in place when there is room.
func stampJSON(b []byte, t time.Time) []byte {
	b = append(jsonBody(b), stampKey...)
	b = t.AppendFormat(append(b, '"'), time.RFC3339Nano)
	return append(b, '"', '}')
}

// queueSync queues plan's writes, stamping what it writes with now.
func (s *Store) queueSync(ctx context.Context, p redis.Pipeliner, in *syncInput, plan *syncPlan, now time.Time) {
	q := bulkQueue{ctx: ctx, p: p}

	for _, g := range plan.goneRecs {
		q.add("del", s.keys.rcp(g.id))
		q.add("hdel", s.keys.rcpcat, g.id)
		if g.pl.category != "" {
			q.add("hdel", s.keys.sums(g.pl.category), g.id)
			if g.pl.member != "" {
				q.add("zrem", s.keys.idx(g.pl.category), g.pl.member)
			}
		}
	}
	for _, slug := range plan.goneCats {
		q.add("hdel", s.keys.cats, slug)
		q.add("zrem", s.keys.catorder, slug)
		q.add("del", s.keys.sums(slug))
		q.add("del", s.keys.idx(slug))
		p.Incr(ctx, s.keys.catGen(slug))
	}

	for _, i := range plan.catWrite {
		c := &in.cats[i]
		c.json = stampJSON(c.json, now)
		q.add("hset", s.keys.cats, c.slug, c.json)
		q.add("zadd", s.keys.catorder, c.pos, c.slug)
	}
	catKeys := make(map[string][2]string) // slug -> its idx and sums keys
	keysOf := func(slug string) (idx, sums string) {
		k, ok := catKeys[slug]
		if !ok {
			k = [2]string{s.keys.idx(slug), s.keys.sums(slug)}
			catKeys[slug] = k
		}
		return k[0], k[1]
	}
	for k, i := range plan.recWrite {
		e, old := &in.recs[i], plan.recOld[k]
		e.recipe, e.summary = stampJSON(e.recipe, now), stampJSON(e.summary, now)
		if old.category != "" {
			oldIdx, oldSums := keysOf(old.category)
			if old.member != "" && (old.category != e.category || old.member != e.member) {
				q.add("zrem", oldIdx, old.member)
			}
			if old.category != e.category {
				q.add("hdel", oldSums, e.id)
			}
		}
		idx, sums := keysOf(e.category)
		q.add("mset", s.keys.rcp(e.id), e.recipe)
		q.add("hset", s.keys.rcpcat, e.id, e.category)
		q.add("hset", sums, e.id, e.summary)
		q.add("zadd", idx, 0, e.member)
	}
	q.flush()
}
