package catalog

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// generation is one coherent in-memory view of the published catalog.
// Invalidation swaps in a fresh, empty generation. A load that started
// before the swap writes into the generation it started from, which nobody
// reads any more: that is the whole defence against the fill race, so
// loaders must store into the generation they captured, never into
// s.cache.Load().
type generation struct {
	// version is the catalog version this generation was created at or
	// after; -1 if unknown. Loads into it read state at least that new.
	version int64

	cats    atomic.Pointer[catState]
	lists   sync.Map // listKey -> *listState
	recipes clockCache

	mu      sync.Mutex
	flights map[string]*flight
}

func newGeneration(version int64, size int) *generation {
	return &generation{
		version: version,
		flights: make(map[string]*flight),
		recipes: clockCache{max: size},
	}
}

// listKey names a category's list in one language.
type listKey struct{ slug, lang string }

func (g *generation) list(slug, lang string) *listState {
	if v, ok := g.lists.Load(listKey{slug, lang}); ok {
		return v.(*listState)
	}
	return nil
}

func (g *generation) putList(ls *listState) { g.lists.Store(listKey{ls.slug, ls.lang}, ls) }

// flight is one load in progress; callers that want the same thing wait
// for it instead of asking Redis again (a herd after every invalidation).
type flight struct {
	done chan struct{}
	val  any
	err  error
}

// share runs fn once per key and generation at a time, on a goroutine of
// its own, and hands its result to everyone who asked meanwhile. Each
// caller waits at most until its ctx is done; fn is bounded by the store's
// timeout, not by any one caller.
func share[T any](ctx context.Context, g *generation, key string, fn func() (T, error)) (T, error) {
	var zero T
	g.mu.Lock()
	f, ok := g.flights[key]
	if !ok {
		// The load runs on its own goroutine so that every caller, the
		// first one included, stops waiting at its own deadline: the
		// responder must answer 503 (or drop an expired request) in time
		// even while Redis is stalled.
		f = &flight{done: make(chan struct{})}
		g.flights[key] = f
		go func() {
			v, err := fn()
			f.val, f.err = v, err
			g.mu.Lock()
			delete(g.flights, key)
			g.mu.Unlock()
			close(f.done)
		}()
	}
	g.mu.Unlock()
	select {
	case <-f.done:
		if f.err != nil {
			return zero, f.err
		}
		return f.val.(T), nil
	case <-ctx.Done():
		return zero, redisconn.Unavailable("catalog", "wait for load", ctx.Err())
	}
}

// recipeEntry is one cached full recipe, or the fact that it does not exist.
type recipeEntry struct {
	id       string
	category string
	models   []string
	doc      recipes.Document // in the default language
	missing  bool

	// langs are the recipe in each declared language it is translated
	// to; nil for an untranslated recipe, which costs nothing more.
	langs []recipes.Document

	ref  atomic.Bool // CLOCK reference bit
	slot int
}

// answer returns e for q, or ENOTFOUND when the recipe is missing, lives
// in another category or does not suit the asking model.
func (e *recipeEntry) answer(q *recipes.Query) (recipes.Document, error) {
	if e.missing || e.category != q.Category || !recipes.SuitsModel(e.models, q.Model) {
		return recipes.Document{}, recipeNotFound(q.RecipeID, q.Category)
	}
	if len(e.langs) == 0 || len(q.Languages) == 0 {
		return e.doc, nil
	}
	lang := recipes.PickLanguage(q.Languages, e.has, e.doc.Language)
	for _, d := range e.langs {
		if d.Language == lang {
			return d, nil
		}
	}
	return e.doc, nil
}

func (e *recipeEntry) has(lang string) bool {
	for _, d := range e.langs {
		if d.Language == lang {
			return true
		}
	}
	return false
}

// clockCache is a bounded map of recipes with CLOCK (second chance)
// eviction, an LRU approximation whose hits write nothing shared but, at
// most, one reference bit. Reads go through a sync.Map, so concurrent
// appliance lookups on several cores do not contend on a lock.
type clockCache struct {
	max int
	m   sync.Map // id -> *recipeEntry

	mu   sync.Mutex // guards ring and hand
	ring []*recipeEntry
	hand int
}

func (c *clockCache) get(id string) *recipeEntry {
	v, ok := c.m.Load(id)
	if !ok {
		return nil
	}
	e := v.(*recipeEntry)
	if !e.ref.Load() {
		e.ref.Store(true)
	}
	return e
}

func (c *clockCache) put(e *recipeEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.m.Load(e.id); ok {
		e.slot = old.(*recipeEntry).slot
		c.ring[e.slot] = e
		c.m.Store(e.id, e)
		return
	}
	if len(c.ring) < c.max {
		e.slot = len(c.ring)
		c.ring = append(c.ring, e)
		c.m.Store(e.id, e)
		return
	}
	for {
		v := c.ring[c.hand]
		if v.ref.Load() {
			v.ref.Store(false)
			c.hand = (c.hand + 1) % len(c.ring)
			continue
		}
		c.m.Delete(v.id)
		e.slot = c.hand
		c.ring[c.hand] = e
		c.m.Store(e.id, e)
		c.hand = (c.hand + 1) % len(c.ring)
		return
	}
}

// invalidate drops everything cached and labels the new generation with
// version (-1: unknown).
func (s *Store) invalidate(version int64) {
	s.cache.Store(newGeneration(version, s.opts.CacheSize))
}

// announced handles a version from the change channel. Announcements of
// versions the cache already covers are late echoes (of this process's own
// writes, typically) and are ignored.
func (s *Store) announced(version int64) {
	if s.cache.Load().version < version {
		s.log.Debug("catalog changed", "version", version)
		s.invalidate(version)
	}
}

// polled handles a version read from Redis. Any difference invalidates:
// a lower version means Redis lost data or was replaced.
func (s *Store) polled(version int64) {
	if v := s.cache.Load().version; v != version {
		s.log.Debug("catalog version differs", "version", version, "cached", v)
		s.invalidate(version)
	}
}
