package catalog

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Translations are accepted only to the languages the catalog declares
// (its {p}:settings), and never to its default language, whose words are
// the item's own fields. Writes read the languages under WATCH of the
// settings key, so a concurrent SetLanguages makes them try again.

// languagesIn reads the catalog's languages in tx.
func (s *Store) languagesIn(ctx context.Context, tx *redis.Tx) (recipes.Languages, error) {
	vals, err := tx.HMGet(ctx, s.keys.settings(), settingDefaultLanguage, settingLanguages).Result()
	if err != nil {
		return recipes.Languages{}, storeErr("read languages", err)
	}
	return languagesFrom(vals[0], vals[1]), nil
}

// checkTranslations returns a *recipes.ValidationError of kind and id
// naming every translation in tags to a language the catalog does not
// declare, or nil.
func (s *Store) checkTranslations(ctx context.Context, tx *redis.Tx, kind, id string, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	langs, err := s.languagesIn(ctx, tx)
	if err != nil {
		return err
	}
	return undeclared(langs, kind, id, tags)
}

// undeclared is checkTranslations with the languages known.
func undeclared(langs recipes.Languages, kind, id string, tags []string) error {
	var fields []recipes.FieldError
	for _, tag := range tags {
		field := "translations." + tag
		switch {
		case tag == langs.Default:
			fields = append(fields, recipes.FieldError{Field: field, Message: fmt.Sprintf(
				"%q is the catalog's default language: its words are the %s's own fields, not a translation", tag, kind)})
		case !slices.Contains(langs.Others, tag):
			fields = append(fields, recipes.FieldError{Field: field, Message: fmt.Sprintf(
				"%q is not one of the catalog's languages (%s)", tag, declaredList(langs))})
		}
	}
	if fields == nil {
		return nil
	}
	return &recipes.ValidationError{Kind: kind, ID: id, Fields: fields}
}

// declaredList names the languages translations may be written in, for
// an error message.
func declaredList(langs recipes.Languages) string {
	if len(langs.Others) == 0 {
		return "none is declared besides the default, " + langs.Default
	}
	return strings.Join(langs.Others, ", ")
}

func recipeTags(r *recipes.Recipe) []string { return r.Languages() }

func categoryTags(c *recipes.Category) []string { return slices.Sorted(maps.Keys(c.Translations)) }

// changedTags returns the languages whose translation in after is new or
// differs from before, sorted.
func changedTags[T comparable](before, after map[string]T) []string {
	var out []string
	for tag, t := range after {
		if old, ok := before[tag]; !ok || old != t {
			out = append(out, tag)
		}
	}
	slices.Sort(out)
	return out
}

// KindLanguages is the Kind of the [recipes.Change] a sync reports when it
// changes the catalog's languages; its ID lists them, the default first.
const KindLanguages = "languages"

func languagesChange(l recipes.Languages) recipes.Change {
	return recipes.Change{Op: recipes.ItemChanged, Kind: KindLanguages, ID: strings.Join(l.All(), ",")}
}

// syncTranslations are the languages of the translations a sync is
// given, item by item, collected before its transaction so that the
// items themselves need not be kept.
type syncTranslations struct {
	items []translatedItem
	used  []string // every language used, sorted
}

type translatedItem struct {
	kind, id string
	tags     []string
}

func collectTranslations(cats []recipes.Category, recs []recipes.Recipe) syncTranslations {
	var st syncTranslations
	seen := make(map[string]struct{})
	add := func(kind, id string, tags []string) {
		st.items = append(st.items, translatedItem{kind, id, tags})
		for _, t := range tags {
			seen[t] = struct{}{}
		}
	}
	for i := range cats {
		if len(cats[i].Translations) > 0 {
			add("category", cats[i].Slug, categoryTags(&cats[i]))
		}
	}
	for i := range recs {
		if len(recs[i].Translations) > 0 {
			add("recipe", recs[i].ID, recipeTags(&recs[i]))
		}
	}
	st.used = slices.Sorted(maps.Keys(seen))
	return st
}

// syncLanguages works out, under WATCH, the catalog's languages after a
// sync with decl (nil: as they are) and whether they change, and refuses
// every translation given to a language they do not include.
func (s *Store) syncLanguages(ctx context.Context, tx *redis.Tx, st syncTranslations,
	decl *recipes.LanguagesDecl, prune bool,
) (recipes.Languages, bool, error) {
	cur, err := s.languagesIn(ctx, tx)
	if err != nil {
		return cur, false, err
	}
	langs := cur
	if decl != nil {
		langs = decl.Resolve(cur, st.used, prune)
		if err := langs.Validate(); err != nil {
			return cur, false, err
		}
	}
	var errs []error
	for _, it := range st.items {
		if err := undeclared(langs, it.kind, it.id, it.tags); err != nil {
			errs = append(errs, err)
		}
	}
	switch len(errs) {
	case 0:
	case 1:
		return cur, false, errs[0]
	default:
		return cur, false, errors.Join(errs...)
	}
	same := langs.Default == cur.Default && slices.Equal(langs.Others, cur.Others)
	return langs, !same, nil
}
