package catalog

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// TestBatchModesAgree checks that the family writers leave the same keys
// whether their batch sends each command at once, as edits do, or groups
// them into bulk commands, as Sync does, and that the result is what the
// writes asked for.
func TestBatchModesAgree(t *testing.T) {
	ctx := context.Background()
	enc := func(id, cat, title string) encodedRecipe {
		r := recipes.Recipe{ID: id, Category: cat, Title: title, Servings: 1, TotalMinutes: 1, Difficulty: recipes.Easy}
		e, err := encodeRecipe(&r)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	at := func(e encodedRecipe) placement { return placement{category: e.category, member: e.member} }
	r1, r2, r3 := enc("r1", "a", "One"), enc("r2", "a", "Two"), enc("r3", "b", "Three")
	// What the stores hold before: categories a, b and d, three recipes,
	// drafts of r5 and of category e.
	before := func(b *batch) {
		for i, slug := range []string{"a", "b", "d"} {
			b.putCategory(slug, i, []byte(`{"slug":"`+slug+`"}`))
		}
		for _, e := range []encodedRecipe{r1, r2, r3} {
			b.putRecipe(e, placement{})
		}
		b.putDraftRecipe("r5", "a", []byte(`{"id":"r5"}`))
		b.putDraftCategory("e", []byte(`{"slug":"e"}`))
	}
	// The writes compared: every writer once, as a sync combines them.
	moved, retitled := enc("r1", "b", "One"), enc("r2", "a", "Second")
	writes := func(b *batch) {
		b.putRecipe(moved, at(r1))
		b.putRecipe(retitled, at(r2))
		b.dropRecipe("r3", at(r3))
		b.putCategory("c", 7, []byte(`{"slug":"c"}`))
		b.dropCategory("d")
		b.putDraftRecipe("r4", "c", []byte(`{"id":"r4"}`))
		b.dropDraftRecipe("r5")
		b.putDraftCategory("c", []byte(`{"slug":"c","name":"draft"}`))
		b.dropDraftCategory("e")
	}
	dumps := map[string]map[string]string{}
	var k keys
	for _, mode := range []string{"queue", "bulk"} {
		s := openOnEmbedded(t)
		k = s.keys
		run := func(queue func(b *batch)) {
			if _, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				b := s.queue(ctx, p)
				if mode == "bulk" {
					b = s.bulk(ctx, p)
				}
				queue(b)
				b.flush()
				return nil
			}); err != nil {
				t.Fatalf("%s: %v", mode, err)
			}
		}
		run(before)
		run(writes)
		dumps[mode] = dumpKeys(t, s.rdb)
	}
	if diff := cmp.Diff(dumps["queue"], dumps["bulk"]); diff != "" {
		t.Fatalf("queued one by one (-) and in bulk (+) differ:\n%s", diff)
	}
	want := map[string]string{
		k.idx("a"):       "[{0 second\x00r2}]",
		k.idx("b"):       "[{0 one\x00r1}]",
		k.sums("b"):      fmt.Sprint(map[string]string{"r1": string(moved.summary)}),
		k.rcpcat:         fmt.Sprint(map[string]string{"r1": "b", "r2": "a"}),
		k.catorder:       "[{0 a} {1 b} {7 c}]",
		k.catGen("d"):    "1",
		k.draftRcps():    fmt.Sprint(map[string]string{"r4": "c"}),
		k.draftCats():    fmt.Sprint(map[string]string{"c": `{"slug":"c","name":"draft"}`}),
		k.rcp("r3"):      "",
		k.sums("d"):      "",
		k.draftRcp("r5"): "",
	}
	for key, v := range want {
		if got := dumps["bulk"][key]; got != v {
			t.Errorf("%s = %q, want %q", key, got, v)
		}
	}
}

// dumpKeys returns every key's value, rendered as text.
func dumpKeys(t *testing.T, rdb redis.UniversalClient) map[string]string {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(keys))
	for _, key := range keys {
		var v any
		switch typ := rdb.Type(ctx, key).Val(); typ {
		case "string":
			v, err = rdb.Get(ctx, key).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, key).Result()
		case "zset":
			v, err = rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		default:
			t.Fatalf("%s: unexpected type %s", key, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		out[key] = fmt.Sprint(v)
	}
	return out
}
