package catalog_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// testEnv is the test's Redis namespace (see [redistest.New]), on which
// Open opens the stores.
type testEnv struct{ *redistest.Env }

func newEnv(tb testing.TB) *testEnv { return &testEnv{redistest.New(tb)} }

// Open opens a store on env and closes it when the test ends.
func (env *testEnv) Open(tb testing.TB) *catalog.Store {
	tb.Helper()
	return mustOpen(tb, env.URL, catalog.Options{KeyPrefix: env.Prefix})
}

// mustOpen opens a store on a client of the Redis at url, as the server
// does, and closes both when the test ends.
func mustOpen(tb testing.TB, url string, opts catalog.Options) *catalog.Store {
	tb.Helper()
	rdb, err := redisconn.New(url, opts.Timeout)
	if err != nil {
		tb.Fatalf("redisconn.New: %v", err)
	}
	tb.Cleanup(func() { _ = rdb.Close() })
	return mustOpenOn(tb, rdb, opts)
}

// mustOpenOn opens a store on rdb and closes it when the test ends.
func mustOpenOn(tb testing.TB, rdb redis.UniversalClient, opts catalog.Options) *catalog.Store {
	tb.Helper()
	opts.Logger = testLogger()
	s, err := catalog.Open(context.Background(), rdb, opts)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// embeddedStore is a catalog on the embedded store in a directory; Close
// closes both, as the server does.
type embeddedStore struct {
	*catalog.Store
	emb *embedded.Store
}

func (s embeddedStore) Close() error { return errors.Join(s.Store.Close(), s.emb.Close()) }

// openEmbedded opens a catalog on the embedded store in dir; close it
// yourself.
func openEmbedded(tb testing.TB, dir string, opts catalog.Options) (embeddedStore, error) {
	tb.Helper()
	ctx := context.Background()
	emb, err := embedded.Open(ctx, embedded.Options{Dir: dir, Timeout: opts.Timeout, Logger: testLogger()})
	if err != nil {
		return embeddedStore{}, err
	}
	opts.Logger = testLogger()
	s, err := catalog.Open(ctx, emb.Client(), opts)
	if err != nil {
		_ = emb.Close()
		return embeddedStore{}, err
	}
	return embeddedStore{s, emb}, nil
}

func mustOpenEmbedded(tb testing.TB, dir string) embeddedStore {
	tb.Helper()
	s, err := openEmbedded(tb, dir, catalog.Options{})
	if err != nil {
		tb.Fatalf("open embedded store in %s: %v", dir, err)
	}
	return s
}

// MustOpenStore opens a store on a fresh namespace of miniredis, or of
// the Redis at REDIS_URL.
func MustOpenStore(tb testing.TB) *catalog.Store {
	tb.Helper()
	return newEnv(tb).Open(tb)
}

// testLogger discards logs unless CATALOG_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("CATALOG_TEST_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func category(slug string, pos int) recipes.Category {
	return recipes.Category{Slug: slug, Name: "Name of " + slug, Position: pos}
}

func recipe(id, cat, title string, opts ...func(*recipes.Recipe)) recipes.Recipe {
	r := recipes.Recipe{
		ID: id, Category: cat, Title: title, Servings: 2, TotalMinutes: 30, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 500, Unit: "ml"}},
		Steps:       []recipes.Step{{Text: "Boil.", Minutes: 10}},
	}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func withTags(tags ...string) func(*recipes.Recipe) { return func(r *recipes.Recipe) { r.Tags = tags } }
func withModels(ms ...string) func(*recipes.Recipe) { return func(r *recipes.Recipe) { r.Models = ms } }
func withServings(n int) func(*recipes.Recipe)      { return func(r *recipes.Recipe) { r.Servings = n } }

func mustPutCategory(tb testing.TB, s *catalog.Store, cs ...recipes.Category) {
	tb.Helper()
	for _, c := range cs {
		if err := s.PutCategory(context.Background(), c); err != nil {
			tb.Fatalf("PutCategory(%s): %v", c.Slug, err)
		}
	}
}

func mustPutRecipe(tb testing.TB, s *catalog.Store, rs ...recipes.Recipe) {
	tb.Helper()
	for _, r := range rs {
		if err := s.PutRecipe(context.Background(), r); err != nil {
			tb.Fatalf("PutRecipe(%s): %v", r.ID, err)
		}
	}
}

func mustFind(tb testing.TB, s *catalog.Store, q recipes.Query) recipes.Document {
	tb.Helper()
	doc, err := s.Find(context.Background(), q)
	if err != nil {
		tb.Fatalf("Find(%+v): %v", q, err)
	}
	return doc
}

type listData struct {
	Items []recipes.Summary `json:"items"`
	Next  *string           `json:"next"`
}

type categoryData struct {
	Items []recipes.Category `json:"items"`
}

func decode[T any](tb testing.TB, doc recipes.Document) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(doc.Data, &v); err != nil {
		tb.Fatalf("decode %s: %v", doc.Data, err)
	}
	return v
}

func ids(sums []recipes.Summary) []string {
	out := make([]string, len(sums))
	for i, s := range sums {
		out[i] = s.ID
	}
	return out
}

// assertCode checks err's domain code and, if msg is not empty, message.
func assertCode(tb testing.TB, err error, code, msg string) {
	tb.Helper()
	if got := recipes.ErrorCode(err); got != code {
		tb.Fatalf("ErrorCode(%v) = %q, want %q", err, got, code)
	}
	if msg != "" {
		if got := recipes.ErrorMessage(err); got != msg {
			tb.Fatalf("ErrorMessage = %q, want %q", got, msg)
		}
	}
}

// eventually polls cond every 10ms until it holds or d passes.
func eventually(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
