package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// demoDir holds the demo catalog, one file per category.
const demoDir = "../../seed/data"

// result is what one run of the command printed and returned.
type result struct {
	code           int
	stdout, stderr string
}

// runCmd runs recipesd with args, the environment empty but for env.
func runCmd(tb testing.TB, env map[string]string, args ...string) result {
	tb.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &out, &errb)
	return result{code, out.String(), errb.String()}
}

// mustRun runs recipesd and fails the test unless it exits with code.
func mustRun(tb testing.TB, code int, args ...string) result {
	tb.Helper()
	r := runCmd(tb, nil, args...)
	if r.code != code {
		tb.Fatalf("recipesd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// testRedis is the Redis a test seeds: the one at REDIS_URL, under a key
// prefix of the test's own (deleted afterwards), or else a fresh miniredis
// (see redistest.New).
type testRedis struct {
	env    map[string]string // RECIPESD_REDIS_URL and RECIPESD_KEY_PREFIX
	prefix string
	rdb    redis.UniversalClient
	ns     *redistest.Env
}

func newTestRedis(tb testing.TB) *testRedis {
	tb.Helper()
	ns := redistest.New(tb)
	return &testRedis{env: map[string]string{"RECIPESD_REDIS_URL": ns.URL, "RECIPESD_KEY_PREFIX": ns.Prefix}, prefix: ns.Prefix, rdb: ns.RDB, ns: ns}
}

// mustRun runs recipesd against st and fails the test unless it exits
// with code.
func (st *testRedis) mustRun(tb testing.TB, code int, args ...string) result {
	tb.Helper()
	r := runCmd(tb, st.env, args...)
	if r.code != code {
		tb.Fatalf("recipesd %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

// dump returns every key of st's namespace with its type and value, to
// show that nothing was written.
func (st *testRedis) dump(tb testing.TB) string {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	for _, k := range st.ns.Keys(tb) {
		typ := st.rdb.Type(ctx, k).Val()
		var v any
		switch typ {
		case "string":
			v = st.rdb.Get(ctx, k).Val()
		case "hash":
			v = st.rdb.HGetAll(ctx, k).Val()
		case "zset":
			v = st.rdb.ZRangeWithScores(ctx, k, 0, -1).Val()
		case "set":
			m := st.rdb.SMembers(ctx, k).Val()
			slices.Sort(m)
			v = m
		}
		fmt.Fprintf(&b, "%s %s %v\n", k, typ, v)
	}
	return b.String()
}

// writeCatalog writes a catalog file with seed.Write.
func writeCatalog(tb testing.TB, path string, cats []recipes.Category, recs []recipes.Recipe) {
	tb.Helper()
	f, _ := seed.FormatOf(path)
	var b bytes.Buffer
	if err := seed.Write(&b, f, cats, recs); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestSeedCommand(t *testing.T) {
	st := newTestRedis(t)
	dir := t.TempDir()

	t.Run("OK", func(t *testing.T) {
		r := st.mustRun(t, exitOK, "seed", "-progress", "plain", demoDir)
		if !strings.Contains(r.stdout, "seeded 10 categories, 130 recipes; recipes 130 added, 0 changed, 0 removed; categories 10 added") ||
			!strings.Contains(r.stdout, "catalog version 0 -> 1") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "seed: reading 100%") || !strings.Contains(r.stderr, "seed: writing 10 categories and 130 recipes") {
			t.Errorf("no progress lines on stderr:\n%s", r.stderr)
		}
	})

	// Seeding the same files again changes nothing, not even the version.
	t.Run("OKAgain", func(t *testing.T) {
		before := st.dump(t)
		r := st.mustRun(t, exitOK, "seed", demoDir, "-progress", "off")
		if !strings.HasPrefix(r.stdout, "nothing to change: 10 categories, 130 recipes") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		if st.dump(t) != before {
			t.Error("the store changed")
		}
	})

	// export -> seed round-trips exactly, in both formats: the exported
	// file seeds an empty store into the same catalog, byte for byte.
	t.Run("OKRoundTrip", func(t *testing.T) {
		for _, ext := range []string{"json", "yaml"} {
			first := filepath.Join(dir, "export."+ext)
			st.mustRun(t, exitOK, "export", "-o", first)
			// Seeding it back changes nothing.
			if r := st.mustRun(t, exitOK, "seed", "-prune", first); !strings.HasPrefix(r.stdout, "nothing to change") {
				t.Errorf("seeding the export back: %s", r.stdout)
			}
			other := newTestRedis(t)
			other.mustRun(t, exitOK, "seed", first)
			second := other.mustRun(t, exitOK, "export", "-format", ext).stdout
			if b, _ := os.ReadFile(first); string(b) != second {
				t.Errorf("%s: the export of the seeded export differs", ext)
			}
		}
	})

	t.Run("OKDryRun", func(t *testing.T) {
		soups := filepath.Join(dir, "soups.json")
		cats, recs := demoCategory(t, "soups")
		recs[0].Title = "Changed title"
		dropped := recs[len(recs)-1].ID
		newSoup := recipes.Recipe{ID: "new-soup", Category: "soups", Title: "New soup", Servings: 2, TotalMinutes: 10,
			Difficulty: recipes.Easy, Ingredients: []recipes.Ingredient{{Name: "water", Quantity: 1, Unit: "l"}}, Steps: []recipes.Step{{Text: "Boil."}}}
		writeCatalog(t, soups, cats, append(recs[:len(recs)-1], newSoup))
		before := st.dump(t)

		r := st.mustRun(t, exitOK, "seed", "-dry-run", "-prune", soups)

		if st.dump(t) != before {
			t.Error("a dry run changed the store")
		}
		for _, want := range []string{
			"soups: 1 added, 1 changed, 1 removed\n  + new-soup\n  ~ tomato-soup\n  - " + dropped + "\n",
			"breads (category removed): 0 added, 0 changed, 13 removed\n  - banana-bread\n",
			"dry run, nothing written: 1 categories, 13 recipes; recipes 1 added, 1 changed, 118 removed; categories 0 added, 0 changed, 9 removed",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
	})

	t.Run("OKPrune", func(t *testing.T) {
		soups := filepath.Join(dir, "soups.json")
		r := st.mustRun(t, exitOK, "seed", "-prune", soups)
		if !strings.Contains(r.stdout, "breads (category removed): 0 added, 0 changed, 13 removed\n  - banana-bread\n") ||
			strings.Contains(r.stdout, "+ new-soup") ||
			!strings.Contains(r.stdout, "recipes 1 added, 1 changed, 118 removed; categories 0 added, 0 changed, 9 removed; catalog version 1 -> 2") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		out := st.mustRun(t, exitOK, "export").stdout
		if strings.Contains(out, `"breads"`) || !strings.Contains(out, `"new-soup"`) {
			t.Errorf("export after the prune:\n%.500s", out)
		}
	})
}

// demoCategory returns a demo category and its recipes.
func demoCategory(tb testing.TB, slug string) ([]recipes.Category, []recipes.Recipe) {
	tb.Helper()
	demo, err := seed.Demo()
	if err != nil {
		tb.Fatal(err)
	}
	var cats []recipes.Category
	var recs []recipes.Recipe
	for _, c := range demo.Categories {
		if c.Slug == slug {
			cats = append(cats, c)
		}
	}
	for _, r := range demo.Recipes {
		if r.Category == slug {
			recs = append(recs, r)
		}
	}
	return cats, recs
}

// TestSeedCommand_BadInput checks all-or-nothing: with a bad record at the
// end of a big file, and a broken file next to it, every problem is listed
// with its file, line, id and field, the exit code is 2, and the store is
// exactly as it was.
func TestSeedCommand_BadInput(t *testing.T) {
	st := newTestRedis(t)
	dir := t.TempDir()
	st.mustRun(t, exitOK, "seed", demoDir)
	n := 5000
	if testing.Short() {
		n = 1000
	}
	big, err := seed.Synthetic(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	last := &big.Recipes[n-1]
	hot := 400
	last.Steps = append(last.Steps, recipes.Step{Text: "Scorch.", TemperatureC: &hot})
	writeCatalog(t, filepath.Join(dir, "big.json"), big.Categories, big.Recipes)
	if err := os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("recipes:\n  - id: x\n    title: [oops\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	beforeDump := st.dump(t)
	beforeExport := st.mustRun(t, exitOK, "export").stdout

	r := st.mustRun(t, exitUsage, "seed", dir)

	hotLine := 0 // where the bad value is
	for i, l := range strings.Split(readFile(t, filepath.Join(dir, "big.json")), "\n") {
		if strings.Contains(l, `"Scorch."`) {
			hotLine = i + 1
		}
	}
	for _, want := range []string{
		"recipesd: 2 problems in the catalog; nothing was written:\n",
		fmt.Sprintf("  %s:%d: recipe %q: steps[%d].temperature_c: must be between 37 and 160 °C, not 400\n", filepath.Join(dir, "big.json"), hotLine, last.ID, len(last.Steps)-1),
		"  " + filepath.Join(dir, "broken.yaml") + ":2: YAML syntax error: did not find expected ',' or ']'",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if st.dump(t) != beforeDump {
		t.Error("the store changed")
	}
	if after := st.mustRun(t, exitOK, "export").stdout; after != beforeExport {
		t.Error("the export changed")
	}
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestSeedCommand_Embedded seeds the data directory of a stopped server,
// and is refused, changing nothing, while a server holds it.
func TestSeedCommand_Embedded(t *testing.T) {
	dataDir := t.TempDir()
	r := mustRun(t, exitOK, "seed", "-data-dir", dataDir, "-synthetic", "300", "-rand-seed", "5")
	if !strings.Contains(r.stdout, "seeded 10 categories, 300 recipes") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	before := mustRun(t, exitOK, "export", "-data-dir", dataDir).stdout

	// A running server holds the directory.
	store, err := embedded.Open(context.Background(), embedded.Options{Dir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	r = mustRun(t, exitLocked, "seed", "-data-dir", dataDir, "-synthetic", "10")
	if !strings.Contains(r.stderr, "is in use by process") || !strings.Contains(r.stderr, "stop the server") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	mustRun(t, exitLocked, "export", "-data-dir", dataDir)
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	if after := mustRun(t, exitOK, "export", "-data-dir", dataDir).stdout; after != before {
		t.Error("the refused seed changed the catalog")
	}
	// The same -synthetic and -rand-seed give the same catalog.
	if r := mustRun(t, exitOK, "seed", "-data-dir", dataDir, "-synthetic", "300", "-rand-seed", "5", "-prune"); !strings.HasPrefix(r.stdout, "nothing to change") {
		t.Errorf("seeding the same synthetic catalog again: %s", r.stdout)
	}
}

func TestSeedCommand_Usage(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"seed"}, exitUsage, "no catalog files given"},
		{[]string{"seed", "-synthetic", "10", "a.json"}, exitUsage, "give files or -synthetic, not both"},
		{[]string{"seed", "-synthetic", "-3"}, exitUsage, "-synthetic -3"},
		{[]string{"seed", "-progress", "fancy", "a.json"}, exitUsage, `-progress "fancy"`},
		{[]string{"seed", "-draft", "-update-devices", "a.json"}, exitUsage, "-draft with -update-devices"},
		{[]string{"seed", "-synthetic", "10", "-update-devices"}, exitUsage, "-synthetic with -update-devices"},
		{[]string{"seed", "-data-dir", "", "a.json"}, exitUsage, "-data-dir is required"},
		{[]string{"seed", "-redis-url", "redis://127.0.0.1:1", "-store-timeout", "200ms", "a.json"}, exitFailure, "unavailable"},
		{[]string{"export", "-format", "xml"}, exitUsage, `-format "xml"`},
		{[]string{"export", "extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCmd(t, nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
	t.Run("Help", func(t *testing.T) {
		r := mustRun(t, exitOK, "seed", "-h")
		for _, flag := range []string{"-data-dir", "-redis-url", "-key-prefix", "-store-timeout", "-log-level", "-prune", "-dry-run", "-draft",
			"-update-devices", "-synthetic", "-rand-seed", "-schema", "-progress", "Exit status: 0"} {
			if !strings.Contains(r.stderr, flag) {
				t.Errorf("seed -h does not explain %s:\n%s", flag, r.stderr)
			}
		}
		r = mustRun(t, exitOK, "export", "-h")
		for _, flag := range []string{"-o FILE", "-format", "-redis-url", "Exit status: 0"} {
			if !strings.Contains(r.stderr, flag) {
				t.Errorf("export -h does not explain %s:\n%s", flag, r.stderr)
			}
		}
		if r := mustRun(t, exitOK, "help"); !strings.Contains(r.stdout, "recipesd seed") || !strings.Contains(r.stdout, "recipesd export") {
			t.Errorf("help:\n%s", r.stdout)
		}
	})
	t.Run("Schema", func(t *testing.T) {
		r := mustRun(t, exitOK, "seed", "-schema")
		if r.stdout != string(seed.Schema()) || !json.Valid([]byte(r.stdout)) {
			t.Errorf("seed -schema printed %.200s", r.stdout)
		}
	})
}

// TestExportCommand_File writes through a temporary file: a failed export
// leaves no file behind.
func TestExportCommand_File(t *testing.T) {
	st := newTestRedis(t)
	dir := t.TempDir()
	st.mustRun(t, exitOK, "seed", demoDir)
	out := filepath.Join(dir, "catalog.yml")
	r := st.mustRun(t, exitOK, "export", "-o", out)
	if !strings.Contains(r.stderr, "exported 10 categories and 130 recipes to "+out) {
		t.Errorf("stderr: %s", r.stderr)
	}
	if b := readFile(t, out); !strings.HasPrefix(b, "categories:\n  - slug: soups\n") {
		t.Errorf("%s is not YAML by position:\n%.200s", out, b)
	}
	failed := filepath.Join(dir, "failed.json")
	mustRun(t, exitFailure, "export", "-redis-url", "redis://127.0.0.1:1", "-store-timeout", "200ms", "-o", failed)
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files after a failed export: %v", entries)
	}
}

// TestSeedCommand_ReadmeExamples seeds the example catalog of the README,
// in JSON and in YAML: both are valid and the same catalog.
func TestSeedCommand_ReadmeExamples(t *testing.T) {
	readme := readFile(t, "../../README.md")
	_, format, ok := strings.Cut(readme, "### The catalog file format")
	if !ok {
		t.Fatal("README has no catalog file format section")
	}
	block := func(lang string) string {
		_, rest, ok := strings.Cut(format, "```"+lang+"\n")
		body, _, ok2 := strings.Cut(rest, "```")
		if !ok || !ok2 {
			t.Fatalf("no %s example in the README", lang)
		}
		return body
	}
	dir := t.TempDir()
	var exports []string
	for _, lang := range []string{"json", "yaml"} {
		path := filepath.Join(dir, "example."+lang)
		if err := os.WriteFile(path, []byte(block(lang)), 0o644); err != nil {
			t.Fatal(err)
		}
		st := newTestRedis(t)
		r := st.mustRun(t, exitOK, "seed", path)
		if !strings.Contains(r.stdout, "seeded 1 categories, 1 recipes") {
			t.Errorf("%s: %s", lang, r.stdout)
		}
		exports = append(exports, st.mustRun(t, exitOK, "export").stdout)
	}
	if exports[0] != exports[1] {
		t.Errorf("the JSON and YAML examples differ:\n%s\n%s", exports[0], exports[1])
	}
}

// TestSeedCommand_Draft seeds drafts into a data directory: devices still
// see the published catalog, editors see the drafts.
func TestSeedCommand_Draft(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	mustRun(t, exitOK, "seed", "-data-dir", dataDir, "-synthetic", "3", "-rand-seed", "5")
	exported := mustRun(t, exitOK, "export", "-data-dir", dataDir).stdout
	const id = "grandmas-hidden-vegetable-pasta-sauce-with-toasted-seeds-3"
	const oldTitle = `"title": "Grandma's hidden-vegetable pasta sauce with toasted seeds"`
	if !strings.Contains(exported, oldTitle) {
		t.Fatalf("export lacks %s:\n%.2000s", oldTitle, exported)
	}
	file := filepath.Join(t.TempDir(), "drafts.json")
	edited := strings.Replace(exported, oldTitle, `"title": "Grandma's sauce, revised"`, 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	r := mustRun(t, exitOK, "seed", "-data-dir", dataDir, "-draft", "-dry-run", file)
	if !strings.Contains(r.stdout, "as drafts") || !strings.Contains(r.stdout, "~ "+id) || !strings.Contains(r.stdout, "1 changed") {
		t.Errorf("dry run stdout:\n%s", r.stdout)
	}
	r = mustRun(t, exitOK, "seed", "-data-dir", dataDir, "-draft", file)
	if !strings.Contains(r.stdout, "awaiting review") || !strings.Contains(r.stdout, "1 changed") {
		t.Errorf("stdout:\n%s", r.stdout)
	}
	if after := mustRun(t, exitOK, "export", "-data-dir", dataDir).stdout; after != exported {
		t.Error("seeding drafts changed the published catalog")
	}

	store, err := openStore(ctx, StoreConfig{DataDir: dataDir}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	doc, err := store.Find(ctx, recipes.Query{Category: "baby-food", RecipeID: id})
	if err != nil {
		t.Fatal(err)
	}
	var pub recipes.Recipe
	if err := json.Unmarshal(doc.Data, &pub); err != nil {
		t.Fatal(err)
	}
	if pub.Title != "Grandma's hidden-vegetable pasta sauce with toasted seeds" {
		t.Errorf("devices see %q, want the published title", pub.Title)
	}
	draft, st, err := store.EditorRecipe(ctx, id)
	if err != nil || st != recipes.Changed || draft.Title != "Grandma's sauce, revised" {
		t.Errorf("EditorRecipe = %q, %s, %v; want the draft", draft.Title, st, err)
	}
}

func TestSeedCommand_DraftPrune(t *testing.T) {
	dataDir := t.TempDir()
	r := runCmd(t, nil, "seed", "-data-dir", dataDir, "-draft", "-prune", "-synthetic", "3")
	if r.code != exitUsage || !strings.Contains(r.stderr, "-draft with -prune") {
		t.Fatalf("exit %d, stderr %q; want %d", r.code, r.stderr, exitUsage)
	}
}

// secretHash is a device secret's stored form, as a factory computes it:
// printf %s "$SECRET" | sha256sum.
func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// openStore opens the catalog store st's commands use, with its identity
// registry.
func (st *testRedis) openStore(tb testing.TB) adminStore {
	tb.Helper()
	s, err := openStore(context.Background(), StoreConfig{RedisURL: st.env["RECIPESD_REDIS_URL"], KeyPrefix: st.prefix}, 0, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return adminStore{s.Store, s.ids}
}

func writeText(tb testing.TB, path, text string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// TestSeedCommand_Devices bootstraps a fleet from a file: hashes from the
// factory, secrets issued to the others through -secrets-out, and every
// refusal leaves the store as it was.
func TestSeedCommand_Devices(t *testing.T) {
	ctx := context.Background()
	st := newTestRedis(t)
	st.mustRun(t, exitOK, "seed", demoDir)
	store := st.openStore(t)
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.json")
	writeText(t, fleet, `{
  "devices": [
    {"id": "oven-a", "model": "CM-300", "secret_hash": "`+secretHash("factory-a")+`"},
    {"id": "oven-b", "model": "CM-200"},
    {"id": "oven-c", "model": "CM-100", "enabled": false, "secret_hash": "`+secretHash("factory-c")+`"}
  ]
}
`)
	secretsOut := filepath.Join(dir, "secrets.csv")
	var issued string // oven-b's secret

	t.Run("ErrNoSecretsOut", func(t *testing.T) {
		before := st.dump(t)
		r := st.mustRun(t, exitUsage, "seed", fleet)
		want := fleet + `:4: device "oven-b": secret_hash: is required for a device that is not in the store yet`
		if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "-secrets-out FILE") || !strings.Contains(r.stderr, "nothing was written") {
			t.Errorf("stderr lacks %q and the flag:\n%s", want, r.stderr)
		}
		if st.dump(t) != before {
			t.Error("the store changed")
		}
	})

	t.Run("OKDryRun", func(t *testing.T) {
		before := st.dump(t)
		r := st.mustRun(t, exitOK, "seed", "-dry-run", "-secrets-out", secretsOut, fleet)
		for _, want := range []string{
			"devices: 3 added, 0 changed\n  + oven-a\n  + oven-b\n  + oven-c\n",
			"dry run, nothing written: 0 categories, 0 recipes, 3 devices; recipes 0 added, 0 changed, 0 removed; categories 0 added, 0 changed, 0 removed; devices 3 added, 0 changed;",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if _, err := os.Stat(secretsOut); !os.IsNotExist(err) {
			t.Errorf("a dry run wrote %s: %v", secretsOut, err)
		}
		if st.dump(t) != before {
			t.Error("a dry run changed the store")
		}
	})

	t.Run("OK", func(t *testing.T) {
		v0, err := store.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r := st.mustRun(t, exitOK, "seed", "-secrets-out", secretsOut, fleet)
		for _, want := range []string{
			"devices: 3 added, 0 changed\n",
			fmt.Sprintf("seeded 0 categories, 0 recipes, 3 devices; recipes 0 added, 0 changed, 0 removed; categories 0 added, 0 changed, 0 removed; devices 3 added, 0 changed; catalog version %d unchanged (only devices changed);", v0),
			"secrets issued to new devices: 1, written to " + secretsOut + " (mode 0600)",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if v, _ := store.Version(ctx); v != v0 {
			t.Errorf("catalog version %d -> %d; devices must not bump it", v0, v)
		}
		info, err := os.Stat(secretsOut)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", secretsOut, info.Mode().Perm())
		}
		rows, err := csv.NewReader(strings.NewReader(readFile(t, secretsOut))).ReadAll()
		if err != nil || len(rows) != 2 || !slices.Equal(rows[0], []string{"id", "secret"}) || rows[1][0] != "oven-b" {
			t.Fatalf("%s holds %q, %v; want a header and oven-b", secretsOut, rows, err)
		}
		issued = rows[1][1]
		if strings.Contains(st.dump(t), issued) {
			t.Error("the store holds the issued secret in clear")
		}
		for id, secret := range map[string]string{"oven-a": "factory-a", "oven-b": issued} {
			if _, err := store.AuthenticateDevice(ctx, id, secret); err != nil {
				t.Errorf("AuthenticateDevice(%s): %v", id, err)
			}
		}
		if _, err := store.AuthenticateDevice(ctx, "oven-c", "factory-c"); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
			t.Errorf("disabled oven-c authenticates: %v", err)
		}
	})

	t.Run("ErrSecretsOutExists", func(t *testing.T) {
		before := readFile(t, secretsOut)
		r := st.mustRun(t, exitUsage, "seed", "-secrets-out", secretsOut, fleet)
		if !strings.Contains(r.stderr, "the file exists") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		if readFile(t, secretsOut) != before {
			t.Error("the secrets file was written over")
		}
	})

	// oven-b is registered now, so it needs no hash: it keeps its secret.
	t.Run("OKAgain", func(t *testing.T) {
		before := st.dump(t)
		r := st.mustRun(t, exitOK, "seed", fleet)
		if !strings.HasPrefix(r.stdout, "nothing to change: 0 categories, 0 recipes, 3 devices;") {
			t.Errorf("stdout:\n%s", r.stdout)
		}
		if st.dump(t) != before {
			t.Error("the store changed")
		}
	})

	// Staff rotate oven-a's leaked secret, and rotate and disable stolen
	// oven-b; an old export of the fleet re-seeded to add oven-d gives neither back,
	// and says so per device.
	backup := filepath.Join(dir, "backup.json")
	writeText(t, backup, `{"devices": [
  {"id": "oven-a", "model": "CM-300", "enabled": true, "secret_hash": "`+secretHash("factory-a")+`"},
  {"id": "oven-b", "model": "CM-200", "enabled": true, "secret_hash": "`+secretHash(issued)+`"},
  {"id": "oven-c", "model": "CM-300", "enabled": false, "secret_hash": "`+secretHash("factory-c")+`"},
  {"id": "oven-d", "model": "CM-100", "enabled": true, "secret_hash": "`+secretHash("factory-d")+`"}
]}
`)
	var staffA string // oven-a's secret after the rotation
	t.Run("OKKeepStaffChanges", func(t *testing.T) {
		var err error
		if staffA, err = store.RotateDeviceSecret(ctx, "oven-a"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.RotateDeviceSecret(ctx, "oven-b"); err != nil {
			t.Fatal(err)
		}
		if err := store.SetDeviceEnabled(ctx, "oven-b", false); err != nil {
			t.Fatal(err)
		}
		before := st.dump(t)
		r := st.mustRun(t, exitOK, "seed", "-dry-run", backup)
		for _, want := range []string{
			"devices: 1 added, 1 changed\n  ~ oven-c (model CM-100 -> CM-300)\n  + oven-d\n" +
				"would keep oven-a's secret as registered (use -update-devices to replace it)\n" +
				"would keep oven-b's secret and enabled flag as registered (use -update-devices to replace them)\n" +
				"dry run, nothing written:",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if st.dump(t) != before {
			t.Error("a dry run changed the store")
		}
		r = st.mustRun(t, exitOK, "seed", backup)
		for _, want := range []string{
			"devices: 1 added, 1 changed\n  ~ oven-c (model CM-100 -> CM-300)\n" +
				"kept oven-a's secret as registered (use -update-devices to replace it)\n" +
				"kept oven-b's secret and enabled flag as registered (use -update-devices to replace them)\n" +
				"seeded 0 categories, 0 recipes, 4 devices;",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if _, err := store.AuthenticateDevice(ctx, "oven-a", staffA); err != nil {
			t.Errorf("oven-a's rotated secret: %v", err)
		}
		for id, secret := range map[string]string{"oven-a": "factory-a", "oven-b": issued} {
			if _, err := store.AuthenticateDevice(ctx, id, secret); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
				t.Errorf("AuthenticateDevice(%s) = %v, want refused", id, err)
			}
		}
		if _, err := store.AuthenticateDevice(ctx, "oven-d", "factory-d"); err != nil {
			t.Errorf("new oven-d: %v", err)
		}
		r = st.mustRun(t, exitOK, "seed", backup)
		if want := "kept oven-b's secret and enabled flag as registered (use -update-devices to replace them)\nnothing to change:"; !strings.Contains(r.stdout, want) {
			t.Errorf("again: stdout lacks %q:\n%s", want, r.stdout)
		}
	})

	// -update-devices restores a backup: the file's secrets and flags
	// replace the registered ones, and each change is told.
	t.Run("OKUpdateDevices", func(t *testing.T) {
		restore := filepath.Join(dir, "restore.json")
		writeText(t, restore, strings.Replace(readFile(t, backup), `"id": "oven-d", "model": "CM-100", "enabled": true`, `"id": "oven-d", "model": "CM-200", "enabled": false`, 1))
		want := "devices: 0 added, 3 changed\n  ~ oven-a (secret replaced)\n  ~ oven-b (secret replaced, re-enabled)\n  ~ oven-d (model CM-100 -> CM-200, disabled)\n"
		before := st.dump(t)
		if r := st.mustRun(t, exitOK, "seed", "-dry-run", "-update-devices", restore); !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "keep") {
			t.Errorf("dry run: stdout lacks %q:\n%s", want, r.stdout)
		}
		if st.dump(t) != before {
			t.Error("a dry run changed the store")
		}
		if r := st.mustRun(t, exitOK, "seed", "-update-devices", restore); !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "kept") {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
		for id, secret := range map[string]string{"oven-a": "factory-a", "oven-b": issued} {
			if _, err := store.AuthenticateDevice(ctx, id, secret); err != nil {
				t.Errorf("AuthenticateDevice(%s): %v", id, err)
			}
		}
		if _, err := store.AuthenticateDevice(ctx, "oven-a", staffA); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
			t.Errorf("oven-a's rotated secret still works: %v", err)
		}
		if d, err := store.Device(ctx, "oven-d"); err != nil || d.Enabled || d.Model != "CM-200" {
			t.Errorf("oven-d = %+v, %v; want a disabled CM-200", d, err)
		}
	})

	// A new hash in the file rotates the secret with -update-devices;
	// -prune removes content but never devices.
	t.Run("OKRotateAndPrune", func(t *testing.T) {
		rotated := filepath.Join(dir, "rotated.yaml")
		writeText(t, rotated, "devices:\n  - id: oven-a\n    model: CM-300\n    secret_hash: "+secretHash("factory-a2")+"\n")
		r := st.mustRun(t, exitOK, "seed", "-prune", "-update-devices", filepath.Join(demoDir, "soups.json"), rotated)
		for _, want := range []string{"devices: 0 added, 1 changed\n  ~ oven-a (secret replaced)\n", "categories 0 added, 0 changed, 9 removed; devices 0 added, 1 changed; catalog version"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
			}
		}
		if _, err := store.AuthenticateDevice(ctx, "oven-a", "factory-a"); !errors.Is(err, recipes.ErrBadDeviceCredentials) {
			t.Errorf("the old secret still works: %v", err)
		}
		for id, secret := range map[string]string{"oven-a": "factory-a2", "oven-b": issued} {
			if _, err := store.AuthenticateDevice(ctx, id, secret); err != nil {
				t.Errorf("AuthenticateDevice(%s) after the prune: %v", id, err)
			}
		}
		if devs, err := store.Devices(ctx); err != nil || len(devs) != 4 {
			t.Errorf("Devices = %d, %v; want all 4 kept", len(devs), err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.yaml")
		writeText(t, bad, "devices:\n"+
			"  - id: oven 1\n    model: CM-300\n"+
			"  - id: oven-d\n    model: CM-900\n    secret_hash: sha256:abc\n"+
			"  - id: oven-e\n    model: CM-100\n    secret: hunter2\n"+
			"  - id: oven-a\n    model: CM-100\n    colour: red\n")
		secrets := filepath.Join(dir, "never.csv")
		before := st.dump(t)
		r := st.mustRun(t, exitUsage, "seed", "-secrets-out", secrets, fleet, bad)
		for _, want := range []string{
			"6 problems in the catalog; nothing was written:\n",
			bad + `:2: device "oven 1": id: "oven 1" must be 1 to 128 letters`,
			bad + `:5: device "oven-d": model: "CM-900" is not a known appliance model`,
			bad + `:6: device "oven-d": secret_hash: must be "sha256:" and the 64 lower-case hex digits`,
			bad + `:9: device "oven-e": secret: plaintext secrets are never accepted in files; give secret_hash instead`,
			bad + `:10: device "oven-a": id: is already used by another device at ` + fleet + ":3",
			bad + `:12: device "oven-a": colour: unknown field; known fields are id, model, locale, enabled, secret_hash`,
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "hunter2") {
			t.Error("stderr repeats the plaintext secret")
		}
		if st.dump(t) != before {
			t.Error("the store changed")
		}
		if _, err := os.Stat(secrets); !os.IsNotExist(err) {
			t.Errorf("a failed seed left %s: %v", secrets, err)
		}
	})

	t.Run("ErrDraft", func(t *testing.T) {
		before := st.dump(t)
		r := st.mustRun(t, exitUsage, "seed", "-draft", fleet)
		if want := fleet + ":3: holds devices, which cannot be seeded as drafts"; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
		if r := runCmd(t, st.env, "seed", "-draft", "-secrets-out", filepath.Join(dir, "x.csv"), fleet); r.code != exitUsage || !strings.Contains(r.stderr, "-draft with -secrets-out") {
			t.Errorf("-draft -secrets-out: exit %d, stderr %s", r.code, r.stderr)
		}
		if st.dump(t) != before {
			t.Error("the store changed")
		}
	})

	// A store that fails leaves no secrets file behind: nothing was stored.
	t.Run("ErrStoreDown", func(t *testing.T) {
		secrets := filepath.Join(dir, "down.csv")
		r := mustRun(t, exitFailure, "seed", "-redis-url", "redis://127.0.0.1:1", "-store-timeout", "200ms", "-secrets-out", secrets, fleet)
		if !strings.Contains(r.stderr, "unavailable") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		if _, err := os.Stat(secrets); !os.IsNotExist(err) {
			t.Errorf("a failed seed left %s: %v", secrets, err)
		}
	})

	// Devices are written after the catalog; when their write fails
	// before any device is written, no secret is in use and the file
	// goes. (When device writes were sent and failed, the file stays: see
	// identity's TestSyncWithDevices_OutcomeUnknown and secretsfile.)
	t.Run("ErrDevicesNotWritten", func(t *testing.T) {
		other := newTestRedis(t)
		for k, v := range map[string]string{"devices": "not a set", "identity:layout": "2"} {
			if err := other.rdb.Set(ctx, "{"+other.prefix+"}:"+k, v, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		secrets := filepath.Join(dir, "notkept.csv")
		r := other.mustRun(t, exitFailure, "seed", "-secrets-out", secrets, fleet)
		if !strings.Contains(r.stderr, "sync devices") || !strings.Contains(r.stderr, "WRONGTYPE") {
			t.Errorf("stderr:\n%s", r.stderr)
		}
		if _, err := os.Stat(secrets); !os.IsNotExist(err) {
			t.Errorf("a seed that stored no device left %s: %v", secrets, err)
		}
	})

	t.Run("Help", func(t *testing.T) {
		r := mustRun(t, exitOK, "seed", "-h")
		for _, want := range []string{"-secrets-out FILE", "-update-devices", "keeps its secret and", "devices are never removed", "recipesd device\ndelete"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("seed -h lacks %q:\n%s", want, r.stderr)
			}
		}
	})
}

// TestSeedCommand_SecretsOutRetry: when the store retries its write and the
// retry issues no secret, because the only new device was registered by
// staff meanwhile, the -secrets-out file is left holding no secret and the
// seed says none was issued: a secret never stored must not be provisioned.
func TestSeedCommand_SecretsOutRetry(t *testing.T) {
	ctx := context.Background()
	st := newTestRedis(t)
	store := st.openStore(t)
	cat, err := seed.Parse("fleet.json", []byte(`{"devices": [{"id": "oven-7", "model": "CM-100"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "secrets.csv")
	sf, err := createSecretsOut(path)
	if err != nil {
		t.Fatal(err)
	}
	var staff string
	calls := 0
	_, err = seed.Sync(ctx, seedWriter{store.Store, store.registry}, cat, seed.SyncOptions{Secrets: func(secrets map[string]string) error {
		if err := sf.Write(secrets); err != nil {
			return err
		}
		if calls++; calls == 1 {
			if !strings.HasPrefix(readFile(t, path), "id,secret\noven-7,") {
				t.Errorf("first attempt: %s holds %q", path, readFile(t, path))
			}
			var err error
			if staff, err = store.AddDevice(ctx, "oven-7", "CM-100"); err != nil {
				t.Error(err)
			}
		}
		return nil
	}})
	if err := sf.Finish(err, catalog.ErrOutcomeUnknown, io.Discard); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("%d calls to write the secrets, want 2", calls)
	}
	if got := readFile(t, path); got != "id,secret\n" {
		t.Errorf("%s holds %q, want only the header", path, got)
	}
	var out strings.Builder
	sf.Report(&out)
	if want := "no new device needed a secret; " + path + " holds only the CSV header\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}
	if _, err := store.AuthenticateDevice(ctx, "oven-7", staff); err != nil {
		t.Errorf("oven-7 lost the secret staff gave it: %v", err)
	}
}

// A seed records one revision per item it adds, as the operator at the
// command line, and keeps no more than -revisions-kept.
func TestSeedCommand_Revisions(t *testing.T) {
	st := newTestRedis(t)
	st.mustRun(t, exitOK, "seed", "-progress", "off", "-revisions-kept", "3", demoDir)
	s, err := catalog.Open(context.Background(), st.rdb, catalog.Options{KeyPrefix: st.prefix})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cats, err := s.EditorCategories(context.Background())
	if err != nil || len(cats) == 0 {
		t.Fatalf("categories: %v %v", cats, err)
	}
	revs, err := s.Revisions(context.Background(), recipes.RevisionCategory, cats[0].Slug)
	if err != nil {
		t.Fatal(err)
	}
	want := cliActor(os.Getenv)
	if len(revs) != 1 || revs[0].Action != recipes.RevSeeded || revs[0].Actor != want || want.Kind != recipes.ActorCLI || want.Name == "" {
		t.Errorf("revisions of %s after a seed: %+v, want one seeded by %v", cats[0].Slug, revs, want)
	}
	st.mustRun(t, exitUsage, "seed", "-progress", "off", "-revisions-kept", "0", demoDir)
}
