package catalog_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// raceAfterRead runs race once, right after the first HGETALL of a key
// ending in suffix has read it: between a write's reads under WATCH and
// its EXEC.
type raceAfterRead struct {
	suffix string
	armed  atomic.Bool
	race   func()
}

func (h *raceAfterRead) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *raceAfterRead) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); cmd.Name() == "hgetall" && len(args) == 2 &&
			strings.HasSuffix(args[1].(string), h.suffix) && h.armed.CompareAndSwap(true, false) {
			h.race()
		}
		return err
	}
}

func (h *raceAfterRead) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestReorderCategories_RacingRemoval removes a category while a reorder
// that lists it has read the categories and not yet written: on Redis the
// removal's HDEL of pub:cats, which the reorder WATCHes, makes the
// reorder start again and refuse the category that no longer exists. On
// the embedded store (miniredis, which did not signal an HDEL that leaves
// the hash non-empty to WATCH), the reorder wrote the removed category
// back.
func TestReorderCategories_RacingRemoval(t *testing.T) {
	ctx := context.Background()
	s := mustOpenEmbedded(t, t.TempDir())
	t.Cleanup(func() { _ = s.Close() })
	mustSync(t, s.Store, []recipes.Category{category("soups", 10), category("salads", 20)}, nil, false)

	h := &raceAfterRead{suffix: ":pub:cats"}
	h.race = func() {
		if _, err := s.RemoveCategory(ctx, "soups", recipes.CategoryRemoval{}); err != nil {
			t.Errorf("RemoveCategory: %v", err)
		}
	}
	h.armed.Store(true)
	s.emb.Client().(*redis.Client).AddHook(h)

	err := s.ReorderCategories(ctx, []string{"salads", "soups"})
	if recipes.ErrorCode(err) != recipes.EINVALID {
		t.Errorf("ReorderCategories listing a category removed meanwhile: err = %v, want EINVALID", err)
	}
	if h.armed.Load() {
		t.Fatal("the removal did not run")
	}
	if _, err := s.EditorCategory(ctx, "soups"); recipes.ErrorCode(err) != recipes.ENOTFOUND {
		t.Fatalf("EditorCategory(soups) after its removal: err = %v, want ENOTFOUND", err)
	}
	list, err := s.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range list {
		if c.Slug == "soups" {
			t.Fatalf("published categories after the removal hold soups: %+v", list)
		}
	}
}
