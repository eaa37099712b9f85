package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Loaders fill the generation they were given (see [generation]). They run
// on a context detached from the asking caller, so that a caller who gives
// up does not fail the others waiting on the same load; the store's
// timeout still bounds them.

func (s *Store) cachedCategories(ctx context.Context, g *generation) (*catState, error) {
	if cs := g.cats.Load(); cs != nil {
		return cs, nil
	}
	return share(ctx, g, "cats", func() (*catState, error) {
		if cs := g.cats.Load(); cs != nil {
			return cs, nil
		}
		items, langs, err := s.readCategories(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		cs, err := s.buildCategories(items, langs)
		if err != nil {
			return nil, err
		}
		g.cats.Store(cs)
		return cs, nil
	})
}

// buildCategories makes the category list in the default language and in
// each other declared one. A category without translations is served as
// stored; one with translations is encoded again without them, in each
// language it has (or falls back to), and in the others in the default
// language with a "language" member saying so.
func (s *Store) buildCategories(items []item, langs recipes.Languages) (*catState, error) {
	def := langs.Default
	cs := &catState{langs: langs, known: make(map[string]struct{}, len(items))}
	lists := make([][]byte, 1+len(langs.Others))
	for i := range lists {
		lists[i] = append(make([]byte, 0, 64), `{"items":[`...)
	}
	for i, it := range items {
		var c recipes.Category
		if err := json.Unmarshal(it.json, &c); err != nil {
			return nil, corrupt(s.keys.cats+" "+it.key, err)
		}
		cs.known[it.key] = struct{}{}
		own := it.json
		if c.Translations != nil {
			c.Translations = declaredOnly(c.Translations, langs)
			plain := c
			plain.Translations = nil
			var err error
			if own, err = json.Marshal(&plain); err != nil {
				return nil, fmt.Errorf("catalog: encode category %s: %w", c.Slug, err)
			}
		}
		for j := range lists {
			if i > 0 {
				lists[j] = append(lists[j], ',')
			}
			if j == 0 {
				lists[j] = append(lists[j], own...)
				continue
			}
			lang := langs.Others[j-1]
			t := translatedTo(c.Translations, lang)
			if t == lang {
				tc, _ := c.In(t)
				b, err := json.Marshal(&tc)
				if err != nil {
					return nil, fmt.Errorf("catalog: encode category %s in %s: %w", c.Slug, t, err)
				}
				lists[j] = append(lists[j], b...)
				continue
			}
			if t == "" {
				lists[j] = appendWithLanguage(lists[j], own, def)
				continue
			}
			tc, _ := c.In(t) // a language lang falls back to
			b, err := json.Marshal(&tc)
			if err != nil {
				return nil, fmt.Errorf("catalog: encode category %s in %s: %w", c.Slug, t, err)
			}
			lists[j] = appendWithLanguage(lists[j], b, t)
		}
	}
	for j := range lists {
		lists[j] = append(lists[j], "]}"...)
	}
	cs.doc = recipes.Document{ETag: ETag(def, lists[0]), Data: lists[0], Language: def}
	if len(langs.Others) > 0 {
		cs.docs = make(map[string]recipes.Document, len(langs.Others))
		for j, lang := range langs.Others {
			cs.docs[lang] = recipes.Document{ETag: ETag(lang, lists[j+1]), Data: lists[j+1], Language: lang}
		}
	}
	return cs, nil
}

// declaredOnly returns the translations to languages the catalog declares
// other than its default (nil if none): a language dropped from the
// catalog is no longer served, and the default's words are the item's own.
func declaredOnly[T any](m map[string]T, langs recipes.Languages) map[string]T {
	var out map[string]T
	for lang, t := range m {
		if lang == langs.Default || !slices.Contains(langs.Others, lang) {
			continue
		}
		if out == nil {
			out = make(map[string]T, len(m))
		}
		out[lang] = t
	}
	return out
}

// translatedTo returns the language an item with translations m is shown
// in within a list in lang: lang itself, or the first shorter tag it falls
// back to (de-AT -> de), that m has; else "" for the default language.
func translatedTo[T any](m map[string]T, lang string) string {
	if len(m) == 0 {
		return ""
	}
	for _, t := range recipes.Fallbacks(lang) {
		if _, ok := m[t]; ok {
			return t
		}
	}
	return ""
}

// appendWithLanguage appends obj, a JSON object, to buf with a member
// "language": lang added at its end, which tells the appliance that this
// item of a list is in another language than the list.
func appendWithLanguage(buf, obj []byte, lang string) []byte {
	obj = bytes.TrimRight(obj, " \t\r\n")
	buf = append(buf, obj[:len(obj)-1]...)
	if len(obj) > 2 {
		buf = append(buf, ',')
	}
	buf = append(buf, `"language":"`...)
	buf = append(buf, lang...) // a canonical tag: letters, digits and '-'
	return append(buf, `"}`...)
}

func (s *Store) cachedList(ctx context.Context, g *generation, cs *catState, slug, lang string) (*listState, error) {
	if ls := g.list(slug, lang); ls != nil {
		return ls, nil
	}
	def := cs.langs.Default
	if lang != def {
		base, err := s.cachedList(ctx, g, cs, slug, def)
		if err != nil {
			return nil, err
		}
		return share(ctx, g, "list:"+slug+"\x00"+lang, func() (*listState, error) {
			if ls := g.list(slug, lang); ls != nil {
				return ls, nil
			}
			ls, err := base.in(lang, def)
			if err != nil {
				return nil, err
			}
			g.putList(ls)
			return ls, nil
		})
	}
	return share(ctx, g, "list:"+slug, func() (*listState, error) {
		if ls := g.list(slug, def); ls != nil {
			return ls, nil
		}
		items, exists, err := s.readList(context.WithoutCancel(ctx), slug)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, categoryNotFound(slug)
		}
		ls := &listState{
			slug:    slug,
			lang:    def,
			entries: make([]listEntry, 0, len(items)),
			ids:     make(map[string]struct{}, len(items)),
			after:   make(map[string]int, len(items)),
		}
		for _, it := range items {
			var sum recipes.Summary
			if err := json.Unmarshal(it.json, &sum); err != nil {
				return nil, corrupt(s.keys.sums(slug)+" "+it.key, err)
			}
			e := listEntry{
				member: it.member, cursor: encodeCursor(it.member),
				title: sortKey(sum.Title), tags: foldTags(sum.Tags), models: sum.Models, json: it.json,
			}
			if sum.Translations != nil {
				// Stored with its translations, which appliances never see.
				sum.Translations = declaredOnly(sum.Translations, cs.langs)
				plain := sum
				plain.Translations = nil
				if e.json, err = json.Marshal(&plain); err != nil {
					return nil, fmt.Errorf("catalog: encode summary %s: %w", sum.ID, err)
				}
				if sum.Translations != nil {
					e.sum = &sum
				}
			}
			ls.entries = append(ls.entries, e)
			ls.ids[it.key] = struct{}{}
			ls.after[e.cursor] = len(ls.entries) - 1
		}
		g.putList(ls)
		return ls, nil
	})
}

func foldTags(tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = strings.ToLower(t)
	}
	return out
}

// in builds the list in lang from ls, the list in the default language
// def: each summary in lang (or the language it falls back to) where it
// has that translation, else in def with a "language" member, ordered by
// the title shown, then id, with cursors of the same form as the
// default's, so that a cursor stays valid across changes.
func (ls *listState) in(lang, def string) (*listState, error) {
	out := &listState{
		slug:    ls.slug,
		lang:    lang,
		entries: make([]listEntry, len(ls.entries)),
		ids:     ls.ids,
		after:   make(map[string]int, len(ls.entries)),
	}
	for i := range ls.entries {
		e := ls.entries[i]
		e.sum = nil
		var t string
		if src := ls.entries[i].sum; src != nil {
			t = translatedTo(src.Translations, lang)
			if t != "" {
				ts, _ := src.In(t)
				b, err := json.Marshal(&ts)
				if err != nil {
					return nil, fmt.Errorf("catalog: encode summary %s in %s: %w", ts.ID, t, err)
				}
				id, _ := idFromMember(e.member)
				e.member = idxMember(ts.Title, id)
				e.cursor = encodeCursor(e.member)
				e.title = sortKey(ts.Title)
				e.json = b
			}
		}
		switch t {
		case lang:
		case "":
			e.json = appendWithLanguage(make([]byte, 0, len(e.json)+len(def)+16), e.json, def)
		default:
			e.json = appendWithLanguage(make([]byte, 0, len(e.json)+len(t)+16), e.json, t)
		}
		out.entries[i] = e
	}
	slices.SortFunc(out.entries, func(a, b listEntry) int { return strings.Compare(a.member, b.member) })
	for i := range out.entries {
		out.after[out.entries[i].cursor] = i
	}
	return out, nil
}

func (s *Store) cachedRecipe(ctx context.Context, g *generation, cs *catState, id string) (*recipeEntry, error) {
	if e := g.recipes.get(id); e != nil {
		return e, nil
	}
	return share(ctx, g, "rcp:"+id, func() (*recipeEntry, error) {
		rctx, cancel := s.edge.RT(context.WithoutCancel(ctx))
		defer cancel()
		raw, err := s.rdb.Get(rctx, s.keys.rcp(id)).Bytes()
		e := &recipeEntry{id: id}
		switch {
		case errors.Is(err, redis.Nil):
			e.missing = true
		case err != nil:
			return nil, storeErr("get recipe "+id, err)
		default:
			var head struct {
				Category     string          `json:"category"`
				Models       []string        `json:"models"`
				Translations json.RawMessage `json:"translations"`
			}
			if err := json.Unmarshal(raw, &head); err != nil {
				return nil, corrupt(s.keys.rcp(id), err)
			}
			e.category, e.models = head.Category, head.Models
			def := cs.langs.Default
			if len(head.Translations) == 0 {
				// Untranslated: served as stored, as RecipeDocument would
				// encode it.
				e.doc = recipes.Document{ETag: ETag(def, raw), Data: raw, Language: def}
				break
			}
			if err := s.renderRecipe(e, raw, cs.langs); err != nil {
				return nil, err
			}
		}
		g.recipes.put(e)
		return e, nil
	})
}

// renderRecipe fills e with a translated recipe in the default language
// and in each declared language it is translated to.
func (s *Store) renderRecipe(e *recipeEntry, raw []byte, langs recipes.Languages) error {
	var r recipes.Recipe
	if err := json.Unmarshal(raw, &r); err != nil {
		return corrupt(s.keys.rcp(e.id), err)
	}
	r.Translations = declaredOnly(r.Translations, langs)
	var err error
	if e.doc, err = RecipeDocument(&r, langs.Default, langs.Default); err != nil {
		return fmt.Errorf("catalog: encode recipe %s: %w", r.ID, err)
	}
	for _, lang := range r.Languages() {
		d, err := RecipeDocument(&r, lang, langs.Default)
		if err != nil {
			return fmt.Errorf("catalog: encode recipe %s in %s: %w", r.ID, lang, err)
		}
		e.langs = append(e.langs, d)
	}
	return nil
}
