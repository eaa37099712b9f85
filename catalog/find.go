package catalog

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/cespare/xxhash/v2"

	"github.com/recipesd/recipesd/recipes"
)

// Find answers an appliance's query from the published catalog: the
// category list, a page of a category's recipe summaries, or one recipe
// (see PROTOCOL.md §2–3). It serves from memory when it can and otherwise
// loads from Redis and caches the answer. The returned Data is shared with
// the cache and must not be modified.
//
// Find returns ENOTFOUND for an unknown category or recipe (or one that
// does not suit q.Model), EINVALID for a cursor this server did not issue,
// and EUNAVAILABLE when Redis cannot answer within the store's timeout.
func (s *Store) Find(ctx context.Context, q recipes.Query) (recipes.Document, error) {
	g := s.cache.Load()
	doc, err := s.findIn(g, &q)
	if !errors.Is(err, recipes.ErrUncached) {
		return doc, err
	}
	cs, err := s.cachedCategories(ctx, g)
	if err != nil {
		return recipes.Document{}, err
	}
	switch {
	case q.Category == "":
		return cs.answer(&q), nil
	case !cs.has(q.Category):
		return recipes.Document{}, categoryNotFound(q.Category)
	case q.RecipeID == "":
		ls, err := s.cachedList(ctx, g, cs, q.Category, cs.listLanguage(&q))
		if err != nil {
			return recipes.Document{}, err
		}
		return ls.page(&q)
	}
	// The list tells which ids exist, so that requests for made-up ids are
	// answered from memory after the first.
	ls, err := s.cachedList(ctx, g, cs, q.Category, cs.langs.Default)
	if err != nil {
		return recipes.Document{}, err
	}
	if !ls.has(q.RecipeID) {
		return recipes.Document{}, recipeNotFound(q.RecipeID, q.Category)
	}
	e, err := s.cachedRecipe(ctx, g, cs, q.RecipeID)
	if err != nil {
		return recipes.Document{}, err
	}
	return e.answer(&q)
}

// FindCached is [Store.Find] from memory only: it never waits on I/O and
// returns [recipes.ErrUncached] when the answer would need Redis. It is
// meant for the MQTT hot path, with Find on a worker as the fallback.
func (s *Store) FindCached(q recipes.Query) (recipes.Document, error) {
	return s.findIn(s.cache.Load(), &q)
}

func (s *Store) findIn(g *generation, q *recipes.Query) (recipes.Document, error) {
	// The category list holds the catalog's languages: nothing is
	// answered from memory before they are known.
	cs := g.cats.Load()
	if cs == nil {
		return recipes.Document{}, recipes.ErrUncached
	}
	switch {
	case q.Category == "":
		return cs.answer(q), nil
	case !cs.has(q.Category):
		return recipes.Document{}, categoryNotFound(q.Category)
	case q.RecipeID == "":
		if ls := g.list(q.Category, cs.listLanguage(q)); ls != nil {
			return ls.page(q)
		}
	default:
		if e := g.recipes.get(q.RecipeID); e != nil {
			return e.answer(q)
		}
		if ls := g.list(q.Category, cs.langs.Default); ls != nil && !ls.has(q.RecipeID) {
			return recipes.Document{}, recipeNotFound(q.RecipeID, q.Category)
		}
	}
	return recipes.Document{}, recipes.ErrUncached
}

// catState is the cached category list, in the default language and in
// each other language the catalog declares, and the catalog's languages.
type catState struct {
	langs recipes.Languages
	doc   recipes.Document            // in langs.Default
	docs  map[string]recipes.Document // by other declared language
	known map[string]struct{}
}

// listLanguage is the language a list (or the category list) is served
// in for q: the first wanted language, or the one it falls back to, that
// the catalog declares; else the default. A catalog without other
// languages, or a query that wants none, costs nothing here.
func (cs *catState) listLanguage(q *recipes.Query) string {
	if len(q.Languages) == 0 || len(cs.langs.Others) == 0 {
		return cs.langs.Default
	}
	return recipes.PickLanguage(q.Languages, cs.langs.Has, cs.langs.Default)
}

func (cs *catState) answer(q *recipes.Query) recipes.Document {
	if lang := cs.listLanguage(q); lang != cs.langs.Default {
		return cs.docs[lang]
	}
	return cs.doc
}

func (cs *catState) has(slug string) bool {
	_, ok := cs.known[slug]
	return ok
}

// listState is one category's recipes in list order in one language,
// each summary's JSON encoded once so that a page is a concatenation.
// The list in the default language is read from Redis; a list in another
// language is built from it (see [listIn]).
type listState struct {
	slug    string
	lang    string
	entries []listEntry
	ids     map[string]struct{}
	after   map[string]int // cursor -> index of the entry it names
}

type listEntry struct {
	member string // idx member: sort key, NUL, id
	cursor string // encodeCursor(member), ready for "next"
	title  string // case-folded
	tags   []string
	models []string
	json   []byte

	// sum is the summary with its translations to declared languages, kept
	// only in the default list's entries that have any: the other
	// languages' lists are built from them.
	sum *recipes.Summary
}

func (ls *listState) has(id string) bool {
	_, ok := ls.ids[id]
	return ok
}

func (e *listEntry) matches(text, model string) bool {
	if !recipes.SuitsModel(e.models, model) {
		return false
	}
	if text == "" || strings.Contains(e.title, text) {
		return true
	}
	for _, t := range e.tags {
		if strings.Contains(t, text) {
			return true
		}
	}
	return false
}

const (
	pageHead = `{"items":[`
	pageMid  = `],"next":"`
	pageTail = `"}`
)

// page builds the list answer for q: the first q.Limit entries after the
// cursor that match q.Text and q.Model, and a cursor if more match.
func (ls *listState) page(q *recipes.Query) (recipes.Document, error) {
	start := 0
	if i, ok := ls.after[q.Cursor]; ok {
		start = i + 1
	} else if q.Cursor != "" {
		// Issued before the list changed: resume after where it pointed.
		after, ok := decodeCursor(q.Cursor)
		if !ok {
			return recipes.Document{}, badCursor()
		}
		start = sort.Search(len(ls.entries), func(i int) bool { return ls.entries[i].member > after })
	}
	limit := q.Limit
	if limit <= 0 || limit > recipes.MaxLimit {
		limit = recipes.DefaultLimit
	}
	text := strings.ToLower(q.Text)

	var picked [recipes.MaxLimit]int32
	n, size, more := 0, 0, false
	for i := start; i < len(ls.entries); i++ {
		e := &ls.entries[i]
		if !e.matches(text, q.Model) {
			continue
		}
		if n == limit {
			more = true
			break
		}
		picked[n] = int32(i)
		n++
		size += len(e.json) + 1
	}
	var next string
	if more {
		next = ls.entries[picked[n-1]].cursor
	}
	buf := make([]byte, 0, len(pageHead)+size+len(pageMid)+len(next)+len(pageTail))
	buf = append(buf, pageHead...)
	for i, p := range picked[:n] {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, ls.entries[p].json...)
	}
	buf = append(buf, pageMid...)
	buf = append(buf, next...)
	buf = append(buf, pageTail...)
	return recipes.Document{ETag: ETag(ls.lang, buf), Data: buf, Language: ls.lang}, nil
}

// etag is the content-derived entity tag of data: the same bytes give the
// same tag on every instance and across restarts.
func etag(data []byte) string { return hexTag(xxhash.Sum64(data)) }

func hexTag(h uint64) string {
	const digits = "0123456789abcdef"
	var tag [16]byte
	for i := range tag {
		tag[i] = digits[h>>(60-4*i)&0xf]
	}
	return string(tag[:])
}
