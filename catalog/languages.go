package catalog

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/cespare/xxhash/v2"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Settings fields in {p}:settings (HASH).
const (
	settingDefaultLanguage = "default_language"
	settingLanguages       = "languages" // comma-separated, in the editors' order
)

func (k keys) settings() string { return k.prefix + "settings" }

// Languages returns the catalog's default language and the others it is
// translated to. A catalog that never set them is in
// [recipes.DefaultLanguage] alone.
func (s *Store) Languages(ctx context.Context) (recipes.Languages, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	vals, err := s.rdb.HMGet(ctx, s.keys.settings(), settingDefaultLanguage, settingLanguages).Result()
	if err != nil {
		return recipes.Languages{}, storeErr("read languages", err)
	}
	return languagesFrom(vals[0], vals[1]), nil
}

func languagesFrom(def, others any) recipes.Languages {
	l := recipes.Languages{Default: recipes.DefaultLanguage}
	if v, ok := def.(string); ok && v != "" {
		l.Default = v
	}
	if v, ok := others.(string); ok && v != "" {
		l.Others = strings.Split(v, ",")
	}
	return l
}

// SetLanguages sets the catalog's languages. Appliances see the change at
// once (the catalog version moves), as their fallback may now differ. It
// returns the *recipes.ValidationError for a bad list, and ECONFLICT for a
// declared language dropped (or made the default) while translations to
// it are stored.
func (s *Store) SetLanguages(ctx context.Context, l recipes.Languages) error {
	if err := l.Validate(); err != nil {
		return err
	}
	if err := s.checkLanguageRemoval(ctx, l); err != nil {
		return err
	}
	// WATCHed so that two admins' changes do not interleave (and a
	// Cluster client refuses a WATCH of no key).
	return s.publishing(ctx, "set languages", 3, []string{s.keys.settings()}, func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
		return s.queueLanguages(l), nil
	})
}

func (s *Store) queueLanguages(l recipes.Languages) queueFunc {
	return func(ctx context.Context, p redis.Pipeliner) {
		p.HSet(ctx, s.keys.settings(),
			settingDefaultLanguage, l.Default, settingLanguages, strings.Join(l.Others, ","))
	}
}

// RecipeDocument is r as an appliance receives it in lang: its
// translation to lang applied (or its own words when lang is the default
// or r has no such translation; Language then says so), no translations
// carried, and an ETag that differs per language. The cache and the
// editors' preview both build replies with it, so a preview is exact.
func RecipeDocument(r *recipes.Recipe, lang, def string) (recipes.Document, error) {
	out, ok := r.In(lang)
	if !ok {
		lang = def
	}
	data, err := json.Marshal(&out)
	if err != nil {
		return recipes.Document{}, err
	}
	return recipes.Document{ETag: ETag(lang, data), Data: data, Language: lang}, nil
}

// ETag is the content-derived entity tag of data in lang: the same bytes
// give the same tag on every node and across restarts, and the same bytes
// in another language's reply (a recipe with no translation) another tag,
// since the reply names its language.
func ETag(lang string, data []byte) string {
	if lang == "" {
		return etag(data)
	}
	// The hash of lang, NUL, data, streamed: a page is hashed on every
	// request, and copying it first would cost an allocation each time.
	d := xxhash.New()
	_, _ = d.WriteString(lang)
	_, _ = d.Write([]byte{0})
	_, _ = d.Write(data)
	return hexTag(d.Sum64())
}
