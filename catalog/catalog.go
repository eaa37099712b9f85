// Package catalog stores categories and recipes in Redis and serves the
// published catalog to the responder from an in-process cache.
//
// Every Redis detail lives here: the key schema (see keys.go), atomic writes
// (WATCH + MULTI/EXEC, never Lua), the catalog version and its pub/sub
// change channel, content-derived ETags and the cache that answers
// appliances without a round trip. It works on the go-redis client it is
// given: a real Redis, or the embedded store (package catalog/embedded).
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// Options configures a [Store]; the zero value works.
type Options struct {
	// KeyPrefix namespaces every key as "{"+KeyPrefix+"}:...". The braces
	// make it a hash tag, so all keys share one Cluster slot and
	// MULTI/EXEC works everywhere. Default "recipesd".
	KeyPrefix string

	Timeout   time.Duration // per Redis round trip, default [redisconn.DefaultTimeout]
	CacheSize int           // full recipes kept in memory, default 10000
	Logger    *slog.Logger  // nil discards logs

	// Revision history (see revision.go): how many revisions each item
	// keeps (default 50), and how many deleted items' histories are kept
	// (default 10,000) and for how long (default 90 days).
	RevisionsKept     int
	DeletedHistories  int
	DeletedHistoryAge time.Duration
}

// Defaults for [Options].
const (
	DefaultKeyPrefix = "recipesd"
	DefaultCacheSize = 10000
)

func (o *Options) ensureDefaults() {
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.RevisionsKept <= 0 {
		o.RevisionsKept = DefaultRevisionsKept
	}
	if o.DeletedHistories <= 0 {
		o.DeletedHistories = DefaultDeletedHistories
	}
	if o.DeletedHistoryAge <= 0 {
		o.DeletedHistoryAge = DefaultDeletedHistoryAge
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Store is the catalog. It is safe for concurrent use; create it with
// [Open] and release it with [Store.Close].
type Store struct {
	opts Options
	log  *slog.Logger
	keys keys
	rdb  redis.UniversalClient // the caller's: it closes it
	edge *redisconn.Edge       // rdb with our timeout, errors, writes and watch

	cache atomic.Pointer[generation]

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// Open opens the catalog on rdb: it checks that Redis answers and starts
// the goroutine that keeps the cache coherent with writes from other
// processes. rdb stays the caller's to close, after [Store.Close].
func Open(ctx context.Context, rdb redis.UniversalClient, opts Options) (*Store, error) {
	opts.ensureDefaults()
	if strings.ContainsAny(opts.KeyPrefix, "{}") {
		return nil, fmt.Errorf("catalog: key prefix %q must not contain braces", opts.KeyPrefix)
	}
	s := &Store{
		opts: opts,
		log:  opts.Logger.With("component", "catalog"),
		keys: newKeys(opts.KeyPrefix),
		rdb:  rdb,
		edge: redisconn.NewEdge(rdb, "catalog", "catalog", opts.Timeout),
		done: make(chan struct{}),
	}
	// Subscribe before anything is cached, so that no change made after a
	// fill can go unannounced. The confirmation also proves that Redis
	// answers.
	ps, err := s.edge.Subscribe(ctx, "subscribe to changes", s.keys.changes)
	if err != nil {
		return nil, fmt.Errorf("catalog: open: %w", err)
	}
	v, err := s.Version(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("catalog: open: %w", err)
	}
	s.invalidate(v)

	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	go s.watch(wctx, ps)
	s.log.Info("catalog opened", "prefix", opts.KeyPrefix)
	return s, nil
}

// Close stops the background goroutine and its change subscription; the
// Redis client stays open for its owner to close. It is safe to call more
// than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.cancel() // also ends the receive in watch
		<-s.done
	})
	return nil
}

// Ping checks that Redis answers and, on the embedded store, that its
// journal takes writes (its PING fails when not). It returns EUNAVAILABLE
// if not.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	return storeErr("ping", s.rdb.Ping(ctx).Err())
}

// Version returns the catalog version, which every write increments.
func (s *Store) Version(ctx context.Context) (int64, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.keys.version).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, storeErr("get version", err)
	}
	return v, nil
}
