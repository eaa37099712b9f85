// Package audit keeps the audit log: who changed what, when, and how it
// ended, for every state-changing request of the admin UI and the JSON
// API, every command line change and every scheduled publish. The log is
// a Redis stream, {p}:audit, bounded by a count and an age.
//
// Entries are written by callers that know what happened (admin's
// middleware, the CLI, the scheduler) and never hold a secret; this
// package only stores, trims and reads them.
package audit

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Defaults for [Options].
const (
	DefaultKeep   = 100_000
	DefaultMaxAge = 90 * 24 * time.Hour
	DefaultLimit  = 50
	MaxLimit      = 1000
)

// Options configures a [Log]. The zero value works.
type Options struct {
	// KeyPrefix is the catalog's; the stream is "{"+KeyPrefix+"}:audit".
	// Default "recipesd".
	KeyPrefix string
	// Keep is about how many entries are kept; older ones are trimmed as
	// new ones come. Default DefaultKeep.
	Keep int
	// MaxAge is about how old the oldest entry kept may be. Default
	// DefaultMaxAge.
	MaxAge time.Duration
	// Timeout bounds one Redis round trip; default
	// [redisconn.DefaultTimeout].
	Timeout time.Duration
	Logger  *slog.Logger // nil discards logs

	// now is the clock (tests).
	now func() time.Time
}

func (o *Options) ensureDefaults() {
	o.KeyPrefix = cmp.Or(o.KeyPrefix, "recipesd")
	if o.Keep <= 0 {
		o.Keep = DefaultKeep
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.now == nil {
		o.now = time.Now
	}
}

// Log is the audit log in Redis. It is safe for concurrent use and does
// not own its client.
type Log struct {
	opts Options
	key  string
	rdb  redis.UniversalClient
	edge *redisconn.Edge
}

// New returns the log kept in rdb. It does no I/O.
func New(rdb redis.UniversalClient, opts Options) *Log {
	opts.ensureDefaults()
	return &Log{
		opts: opts,
		key:  "{" + opts.KeyPrefix + "}:audit",
		rdb:  rdb,
		edge: redisconn.NewEdge(rdb, "audit", "store", opts.Timeout),
	}
}

// Stream fields of an entry. The entry's time is its stream id's.
const (
	fKind, fName, fAction, fTarget, fOutcome, fDetail = "actor_kind", "actor", "action", "target", "outcome", "detail"
)

// Record appends e to the log, with the log's own id and time, and trims
// what is beyond the count and the age kept. e.ID and e.Time are ignored.
//
// Both trims are approximate (~): Redis then drops whole nodes of the
// stream, which is cheap, and keeps a few more than asked. MINID goes in
// an XTRIM of its own because XADD takes one trim strategy; both are in
// one MULTI/EXEC with the XADD so no entry is ever written untrimmed.
func (l *Log) Record(ctx context.Context, e recipes.AuditEntry) error {
	ctx, cancel := l.edge.RT(ctx)
	defer cancel()
	cutoff := l.opts.now().Add(-l.opts.MaxAge).UnixMilli()
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, &redis.XAddArgs{
			Stream: l.key,
			MaxLen: int64(l.opts.Keep),
			Approx: true,
			Values: []string{
				fKind, cmp.Or(e.Actor.Kind, recipes.ActorSystem), fName, e.Actor.Name,
				fAction, e.Action, fTarget, e.Target, fOutcome, e.Outcome, fDetail, e.Detail,
			},
		})
		p.XTrimMinIDApprox(ctx, l.key, strconv.FormatInt(max(cutoff, 0), 10)+"-0", 0)
		return nil
	})
	if err != nil {
		return l.edge.Err("record "+e.Action, err)
	}
	return nil
}

// batch is how many entries a read takes from Redis at once while it
// filters.
const batch = 500

// Entries returns the entries f selects, newest first, at most f.Limit
// (DefaultLimit when 0, MaxLimit at most), and the Before of the next
// page when there may be more. Filters by actor and target are applied
// here, reading the stream backwards in batches, so a rare actor in a
// long log costs a walk over it; the time range and paging are ranges of
// stream ids and cost nothing.
func (l *Log) Entries(ctx context.Context, f recipes.AuditFilter) (recipes.AuditPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var page recipes.AuditPage
	err := l.each(ctx, f, func(e recipes.AuditEntry) bool {
		if len(page.Entries) == limit {
			page.Next = page.Entries[limit-1].ID
			return false
		}
		page.Entries = append(page.Entries, e)
		return true
	})
	return page, err
}

// Each calls fn with every entry f selects, newest first, ignoring
// f.Limit, until fn returns an error, which Each returns.
func (l *Log) Each(ctx context.Context, f recipes.AuditFilter, fn func(recipes.AuditEntry) error) error {
	var ferr error
	err := l.each(ctx, f, func(e recipes.AuditEntry) bool {
		ferr = fn(e)
		return ferr == nil
	})
	return cmp.Or(ferr, err)
}

func (l *Log) each(ctx context.Context, f recipes.AuditFilter, fn func(recipes.AuditEntry) bool) error {
	end, start := "+", "-"
	if !f.To.IsZero() {
		end = "(" + strconv.FormatInt(f.To.UnixMilli(), 10) + "-0"
	}
	if f.Before != "" {
		if _, err := parseID(f.Before); err != nil {
			return recipes.Errorf(recipes.EINVALID, "before %q is not an audit entry id (like 1700000000000-0)", f.Before)
		}
		if end == "+" || compareIDs(f.Before, strings.TrimPrefix(end, "(")) < 0 {
			end = "(" + f.Before
		}
	}
	if !f.From.IsZero() {
		start = strconv.FormatInt(max(f.From.UnixMilli(), 0), 10) + "-0"
	}
	target := strings.ToLower(f.Target)
	for {
		rctx, cancel := l.edge.RT(ctx)
		msgs, err := l.rdb.XRevRangeN(rctx, l.key, end, start, batch).Result()
		cancel()
		if err != nil {
			return l.edge.Err("read", err)
		}
		for _, m := range msgs {
			e, err := decode(m)
			if err != nil {
				return fmt.Errorf("audit: entry %s: %w", m.ID, err)
			}
			if matchActor(e.Actor, f.Actor) && strings.Contains(strings.ToLower(e.Target), target) && !fn(e) {
				return nil
			}
		}
		if len(msgs) < batch {
			return nil
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
}

// matchActor reports whether a is the actor want names: "kind:name", or
// a name of any kind; empty matches everyone.
func matchActor(a recipes.Actor, want string) bool {
	if want == "" {
		return true
	}
	if strings.Contains(want, ":") {
		return a.String() == want
	}
	return a.Name == want
}

func decode(m redis.XMessage) (recipes.AuditEntry, error) {
	ms, err := parseID(m.ID)
	if err != nil {
		return recipes.AuditEntry{}, err
	}
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	return recipes.AuditEntry{
		ID:      m.ID,
		Time:    time.UnixMilli(ms).UTC(),
		Actor:   recipes.Actor{Kind: s(fKind), Name: s(fName)},
		Action:  s(fAction),
		Target:  s(fTarget),
		Outcome: s(fOutcome),
		Detail:  s(fDetail),
	}, nil
}

// parseID returns the milliseconds of a stream id "<ms>-<seq>".
func parseID(id string) (int64, error) {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return 0, fmt.Errorf("bad stream id %q", id)
	}
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad stream id %q", id)
	}
	if _, err := strconv.ParseUint(seq, 10, 64); err != nil {
		return 0, fmt.Errorf("bad stream id %q", id)
	}
	return n, nil
}

// compareIDs orders two valid stream ids.
func compareIDs(a, b string) int {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	an, _ := strconv.ParseUint(am, 10, 64)
	bn, _ := strconv.ParseUint(bm, 10, 64)
	if c := cmp.Compare(an, bn); c != 0 {
		return c
	}
	asq, _ := strconv.ParseUint(as, 10, 64)
	bsq, _ := strconv.ParseUint(bs, 10, 64)
	return cmp.Compare(asq, bsq)
}
