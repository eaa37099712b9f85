package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// SetCategoryTranslation sets (t non-nil) or removes (t nil) a category's
// translation to lang in its draft and returns the editors' copy, as
// [Store.UpdateCategory] does for the default language's words. lang must
// be one of the catalog's declared languages other than the default; the
// check runs under WATCH of the settings, so a language removed meanwhile
// is not written to. It returns ENOTFOUND, or the
// *recipes.ValidationError (field "translations.<lang>...").
func (s *Store) SetCategoryTranslation(ctx context.Context, slug, lang string, t *recipes.CategoryText) (recipes.Category, error) {
	var c recipes.Category
	err := s.update(ctx, "translate category", []string{s.keys.cats, s.keys.draftCats(), s.keys.settings()},
		func(ctx context.Context, tx *redis.Tx) (queueFunc, error) {
			op := "translate category " + slug
			vals, err := tx.HMGet(ctx, s.keys.settings(), settingDefaultLanguage, settingLanguages).Result()
			if err != nil {
				return nil, storeErr(op, err)
			}
			langs := languagesFrom(vals[0], vals[1])
			if t != nil && (!langs.Has(lang) || lang == langs.Default) {
				return nil, fieldError("category", slug, "translations."+lang,
					"%q is not one of the catalog's languages to translate to (%s); an admin adds languages on the Languages page", lang, declared(langs))
			}
			pub, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.cats, slug))
			if err != nil {
				return nil, err
			}
			draft, err := s.edge.Bytes(op, tx.HGet(ctx, s.keys.draftCats(), slug))
			if err != nil {
				return nil, err
			}
			key, raw := s.keys.draftCats(), draft
			if raw == nil {
				key, raw = s.keys.cats, pub
			}
			if raw == nil {
				return nil, categoryNotFound(slug)
			}
			c = recipes.Category{}
			if err := json.Unmarshal(raw, &c); err != nil {
				return nil, corrupt(key+" "+slug, err)
			}
			c.Translations = maps.Clone(c.Translations)
			if t == nil {
				delete(c.Translations, lang)
			} else {
				if c.Translations == nil {
					c.Translations = map[string]recipes.CategoryText{}
				}
				c.Translations[lang] = *t
			}
			if len(c.Translations) == 0 {
				c.Translations = nil
			}
			if err := c.Validate(); err != nil {
				return nil, err
			}
			if sameContent(pub, c, clearCategoryTime) {
				_ = json.Unmarshal(pub, &c)
				return func(ctx context.Context, p redis.Pipeliner) { s.queueDraftCategoryRemoval(ctx, p, slug) }, nil
			}
			if sameContent(draft, c, clearCategoryTime) {
				return nil, errNoChange
			}
			c.UpdatedAt = time.Now().UTC()
			b, err := json.Marshal(c)
			if err != nil {
				return nil, fmt.Errorf("catalog: encode category %s: %w", slug, err)
			}
			return func(ctx context.Context, p redis.Pipeliner) { s.queueDraftCategory(ctx, p, slug, b) }, nil
		})
	return c, err
}

func declared(l recipes.Languages) string {
	if len(l.Others) == 0 {
		return "none declared yet"
	}
	return strings.Join(l.Others, ", ")
}
