package catalog_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
)

func TestFind_Categories(t *testing.T) {
	s := MustOpenStore(t)
	t.Run("Empty", func(t *testing.T) {
		doc := mustFind(t, s, recipes.Query{})
		if got, want := string(doc.Data), `{"items":[]}`; got != want {
			t.Fatalf("Data = %s, want %s", got, want)
		}
	})
	t.Run("OK", func(t *testing.T) {
		mustPutCategory(t, s, category("soups", 2), category("salads", 1), category("bakes", 2), category("drinks", 0))
		doc := mustFind(t, s, recipes.Query{})
		var slugs []string
		for _, c := range decode[categoryData](t, doc).Items {
			slugs = append(slugs, c.Slug)
			if c.Name != "Name of "+c.Slug || c.UpdatedAt.IsZero() {
				t.Errorf("category %+v: wrong name or no UpdatedAt", c)
			}
		}
		if diff := cmp.Diff([]string{"drinks", "salads", "bakes", "soups"}, slugs); diff != "" {
			t.Fatalf("order (-want +got):\n%s", diff)
		}
		assertETag(t, doc)
	})
}

// assertETag checks that doc's ETag is the 16-hex xxhash64 of its
// language, NUL and its Data, and that it names its language.
func assertETag(tb testing.TB, doc recipes.Document) {
	tb.Helper()
	if doc.Language == "" {
		tb.Fatalf("Language is empty; every answer names its language")
	}
	var b [8]byte
	h := xxhash.Sum64(append([]byte(doc.Language+"\x00"), doc.Data...))
	for i := range b {
		b[i] = byte(h >> (56 - 8*i))
	}
	if want := hex.EncodeToString(b[:]); doc.ETag != want {
		tb.Fatalf("ETag = %q, want %q (xxhash64 of language, NUL, Data)", doc.ETag, want)
	}
}

// seedSoups stores a category with recipes chosen to exercise ordering
// (case, equal titles), the text filter (title, tag) and the model filter.
func seedSoups(tb testing.TB, s *catalog.Store) {
	tb.Helper()
	mustPutCategory(tb, s, category("soups", 0), category("salads", 1))
	mustPutRecipe(tb, s,
		recipe("tomato-soup", "soups", "Tomato Soup", withTags("vegan", "quick")),
		recipe("apple-soup", "soups", "apple soup", withModels("CM-300")),
		recipe("zucchini-b", "soups", "Zucchini", withTags("summer")),
		recipe("zucchini-a", "soups", "zucchini"),
		recipe("bean-stew", "soups", "Bean Stew", withTags("tomato-free"), withModels("CM-100", "CM-200")),
		recipe("greek-salad", "salads", "Greek Salad", withTags("tomato")),
	)
}

func TestFind_List(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	tests := []struct {
		name string
		q    recipes.Query
		want []string
	}{
		{"All", recipes.Query{Category: "soups", Limit: 20}, []string{"apple-soup", "bean-stew", "tomato-soup", "zucchini-a", "zucchini-b"}},
		{"OtherCategory", recipes.Query{Category: "salads", Limit: 20}, []string{"greek-salad"}},
		{"TextInTitle", recipes.Query{Category: "soups", Text: "SOUP", Limit: 20}, []string{"apple-soup", "tomato-soup"}},
		{"TextInTag", recipes.Query{Category: "soups", Text: "tomato", Limit: 20}, []string{"bean-stew", "tomato-soup"}},
		{"TextNoMatch", recipes.Query{Category: "soups", Text: "chocolate", Limit: 20}, nil},
		{"ModelCM100", recipes.Query{Category: "soups", Model: "CM-100", Limit: 20}, []string{"bean-stew", "tomato-soup", "zucchini-a", "zucchini-b"}},
		{"ModelCM300", recipes.Query{Category: "soups", Model: "CM-300", Limit: 20}, []string{"apple-soup", "tomato-soup", "zucchini-a", "zucchini-b"}},
		{"TextAndModel", recipes.Query{Category: "soups", Text: "soup", Model: "CM-100", Limit: 20}, []string{"tomato-soup"}},
		{"Limit", recipes.Query{Category: "soups", Limit: 2}, []string{"apple-soup", "bean-stew"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustFind(t, s, tt.q)
			got := decode[listData](t, doc)
			if diff := cmp.Diff(tt.want, ids(got.Items), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("ids (-want +got):\n%s", diff)
			}
			if got.Next == nil {
				t.Fatalf("no next member in %s", doc.Data)
			}
			if more := tt.name == "Limit"; (*got.Next != "") != more {
				t.Fatalf("next = %q, want a cursor: %v", *got.Next, more)
			}
			assertETag(t, doc)
		})
	}
	t.Run("SummaryFields", func(t *testing.T) {
		items := decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Limit: 1})).Items
		r, err := s.Recipe(context.Background(), "apple-soup")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]recipes.Summary{r.ToSummary()}, items); diff != "" {
			t.Fatalf("summary (-want +got):\n%s", diff)
		}
	})
}

func TestFind_Paging(t *testing.T) {
	s := MustOpenStore(t)
	mustPutCategory(t, s, category("soups", 0))
	var all []recipes.Recipe
	for i := range 47 {
		// Titles repeat so that ties are broken by id across page ends.
		title := fmt.Sprintf("Soup %02d", i%9)
		tags := []string{"odd"}
		if i%2 == 0 {
			tags = []string{"even"}
		}
		all = append(all, recipe(fmt.Sprintf("soup-%02d", i), "soups", title, withTags(tags...)))
	}
	if _, err := s.Sync(context.Background(), nil, all, catalog.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		text  string
		limit int
	}{{"Limit1", "", 1}, {"Limit7", "", 7}, {"Limit100", "", 100}, {"Filtered", "even", 5}} {
		t.Run(tt.name, func(t *testing.T) {
			want := ids(decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Text: tt.text, Limit: 100})).Items)
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatal("paging does not end")
				}
				page := decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Text: tt.text, Limit: tt.limit, Cursor: cursor}))
				if len(page.Items) > tt.limit {
					t.Fatalf("page has %d items, limit %d", len(page.Items), tt.limit)
				}
				got = append(got, ids(page.Items)...)
				if *page.Next == "" {
					break
				}
				cursor = *page.Next
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("paged ids differ from the full list (-want +got):\n%s", diff)
			}
			if tt.text == "" && len(got) != len(all) {
				t.Fatalf("got %d recipes, want %d", len(got), len(all))
			}
		})
	}
}

func TestFind_CursorAfterChange(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	ctx := context.Background()
	page := decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Limit: 2}))
	if diff := cmp.Diff([]string{"apple-soup", "bean-stew"}, ids(page.Items)); diff != "" {
		t.Fatalf("page 1 (-want +got):\n%s", diff)
	}
	// The item the cursor names goes away; the next page still starts
	// where it was.
	if err := s.DeleteRecipe(ctx, "bean-stew"); err != nil {
		t.Fatal(err)
	}
	page = decode[listData](t, mustFind(t, s, recipes.Query{Category: "soups", Limit: 2, Cursor: *page.Next}))
	if diff := cmp.Diff([]string{"tomato-soup", "zucchini-a"}, ids(page.Items)); diff != "" {
		t.Fatalf("page 2 (-want +got):\n%s", diff)
	}
}

func TestFind_BadCursor(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	for _, c := range []string{"!!!", "a", base64.RawURLEncoding.EncodeToString([]byte("no separator"))} {
		t.Run(c, func(t *testing.T) {
			_, err := s.Find(context.Background(), recipes.Query{Category: "soups", Limit: 5, Cursor: c})
			assertCode(t, err, recipes.EINVALID, "cursor is not one this server issued")
		})
	}
}

func TestFind_Recipe(t *testing.T) {
	s := MustOpenStore(t)
	seedSoups(t, s)
	t.Run("OK", func(t *testing.T) {
		doc := mustFind(t, s, recipes.Query{Category: "soups", RecipeID: "bean-stew", Model: "CM-200"})
		want, err := s.Recipe(context.Background(), "bean-stew")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, decode[recipes.Recipe](t, doc)); diff != "" {
			t.Fatalf("recipe (-want +got):\n%s", diff)
		}
		assertETag(t, doc)
	})
	tests := []struct {
		name, cat, id, model, msg string
	}{
		{"ErrNotFound", "soups", "nope", "", `recipe "nope" not found in category "soups"`},
		{"ErrWrongCategory", "salads", "bean-stew", "", `recipe "bean-stew" not found in category "salads"`},
		{"ErrUnsuitedModel", "soups", "bean-stew", "CM-300", `recipe "bean-stew" not found in category "soups"`},
		{"ErrUnknownCategory", "desserts", "bean-stew", "", `category "desserts" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Find(context.Background(), recipes.Query{Category: tt.cat, RecipeID: tt.id, Model: tt.model})
			assertCode(t, err, recipes.ENOTFOUND, tt.msg)
			// The cached answer must be the same.
			_, err = s.FindCached(recipes.Query{Category: tt.cat, RecipeID: tt.id, Model: tt.model})
			assertCode(t, err, recipes.ENOTFOUND, tt.msg)
		})
	}
	t.Run("ErrUnknownCategoryList", func(t *testing.T) {
		_, err := s.Find(context.Background(), recipes.Query{Category: "desserts", Limit: 20})
		assertCode(t, err, recipes.ENOTFOUND, `category "desserts" not found`)
	})
}

func TestFind_ETag(t *testing.T) {
	env := newEnv(t)
	s1, s2 := env.Open(t), env.Open(t)
	seedSoups(t, s1)
	qs := map[string]recipes.Query{
		"categories": {},
		"soups":      {Category: "soups", Limit: 20},
		"salads":     {Category: "salads", Limit: 20},
		"tomato":     {Category: "soups", RecipeID: "tomato-soup"},
		"apple":      {Category: "soups", RecipeID: "apple-soup"},
	}
	etags := func(s *catalog.Store) map[string]string {
		m := make(map[string]string)
		for name, q := range qs {
			m[name] = mustFind(t, s, q).ETag
		}
		return m
	}
	before := etags(s1)
	if diff := cmp.Diff(before, etags(s2)); diff != "" {
		t.Fatalf("two instances disagree on ETags (-s1 +s2):\n%s", diff)
	}
	// Changing tomato-soup must change its own tag and its list's, and no
	// other.
	mustPutRecipe(t, s1, recipe("tomato-soup", "soups", "Tomato Soup", withTags("vegan", "quick"), withServings(4)))
	after := etags(s1)
	for name, changed := range map[string]bool{"categories": false, "salads": false, "apple": false, "soups": true, "tomato": true} {
		if (before[name] != after[name]) != changed {
			t.Errorf("%s: ETag %s -> %s, want changed: %v", name, before[name], after[name], changed)
		}
	}
	eventually(t, catalogTimeout, "second instance sees the new ETags", func() bool {
		return cmp.Equal(after, etags(s2))
	})
}
