package identity_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
)

// The identity registry meets the catalog in a seed, which writes both in
// one MULTI/EXEC: the device seed is the catalog's SyncDevices.
var _ catalog.SyncDevices = (*identity.DeviceSeed)(nil)

// testEnv is the test's Redis namespace (see [redistest.New]), on which
// Open opens the stores.
type testEnv struct{ *redistest.Env }

func newEnv(tb testing.TB) *testEnv { return &testEnv{redistest.New(tb)} }

// stores is the catalog and the identity registry on one Redis, wired as
// recipesd wires them; each method resolves to the one that has it.
type stores struct {
	*catalog.Store
	*registry
	closeRedis func() error
}

// Close closes the catalog, then the Redis client under both stores.
func (s stores) Close() error { return errors.Join(s.Store.Close(), s.closeRedis()) }

// registry names the embedded identity store apart from the catalog's.
type registry = identity.Store

// Open opens the stores on env and closes them when the test ends.
func (env *testEnv) Open(tb testing.TB) stores {
	tb.Helper()
	rdb, err := redisconn.New(env.URL, 0)
	if err != nil {
		tb.Fatalf("connect: %v", err)
	}
	cat, err := catalog.Open(context.Background(), rdb, catalog.Options{KeyPrefix: env.Prefix})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	s := stores{cat, identity.New(rdb, identity.Options{KeyPrefix: env.Prefix, PasswordCost: bcrypt.MinCost}), rdb.Close}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// MustOpenStore opens the stores on a fresh namespace of miniredis, or of
// the Redis at REDIS_URL.
func MustOpenStore(tb testing.TB) stores {
	tb.Helper()
	return newEnv(tb).Open(tb)
}

// mustOpenEmbedded opens the stores on an embedded catalog store in dir.
func mustOpenEmbedded(tb testing.TB, dir string) stores {
	tb.Helper()
	emb, err := embedded.Open(context.Background(), embedded.Options{Dir: dir})
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	cat, err := catalog.Open(context.Background(), emb.Client(), catalog.Options{})
	if err != nil {
		_ = emb.Close()
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	s := stores{cat, identity.New(emb.Client(), identity.Options{}), emb.Close}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// SyncWithDevices seeds content and devices in one write, as "recipesd
// seed" does, and returns both kinds of changes.
func (s stores) SyncWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, imp recipes.DeviceImport, prune bool,
	issue func(map[string]string) error,
) ([]recipes.Change, []recipes.DeviceChange, error) {
	devs := s.SeedDevices(imp, issue)
	changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Prune: prune, Devices: devs})
	if err != nil {
		return nil, nil, err
	}
	return changes, devs.Changes(), nil
}

// PlanWithDevices is the dry run of SyncWithDevices; issue says whether
// secrets would be issued to new devices without a hash.
func (s stores) PlanWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, imp recipes.DeviceImport, prune, issue bool) ([]recipes.Change, []recipes.DeviceChange, error) {
	var fn func(map[string]string) error
	if issue {
		fn = func(map[string]string) error { return errors.New("a dry run issued secrets") }
	}
	devs := s.SeedDevices(imp, fn)
	changes, err := s.Sync(ctx, cats, recs, catalog.SyncOptions{Prune: prune, DryRun: true, Devices: devs})
	if err != nil {
		return nil, nil, err
	}
	return changes, devs.Changes(), nil
}

func mustSync(tb testing.TB, s stores, cats []recipes.Category, recs []recipes.Recipe, prune bool) []recipes.Change {
	tb.Helper()
	changes, err := s.Sync(context.Background(), cats, recs, catalog.SyncOptions{Prune: prune})
	if err != nil {
		tb.Fatalf("Sync: %v", err)
	}
	return changes
}

func mustVersion(tb testing.TB, s stores) int64 {
	tb.Helper()
	v, err := s.Version(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

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

func category(slug string, pos int) recipes.Category {
	return recipes.Category{Slug: slug, Name: "Name of " + slug, Position: pos}
}

func recipe(id, cat, title string) recipes.Recipe {
	return recipes.Recipe{
		ID: id, Category: cat, Title: title, Servings: 2, TotalMinutes: 30, Difficulty: recipes.Easy,
		Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 500, Unit: "ml"}},
		Steps:       []recipes.Step{{Text: "Boil.", Minutes: 10}},
	}
}

// syncFixture is two categories and 20 recipes.
func syncFixture() ([]recipes.Category, []recipes.Recipe) {
	cats := []recipes.Category{category("soups", 1), category("salads", 2)}
	var recs []recipes.Recipe
	for i := range 20 {
		recs = append(recs, recipe(fmt.Sprintf("r-%02d", i), cats[i%2].Slug, fmt.Sprintf("Recipe %02d", i)))
	}
	return cats, recs
}

// count returns how many changes of kind have op.
func count(changes []recipes.Change, kind string, op recipes.ChangeOp) int {
	n := 0
	for _, ch := range changes {
		if ch.Kind == kind && ch.Op == op {
			n++
		}
	}
	return n
}
