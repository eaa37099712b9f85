package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

var (
	_ seed.Store      = (*catalog.Store)(nil)
	_ seed.DraftStore = (*catalog.Store)(nil)
)

// SeedConfig is everything "recipesd seed" can be told.
type SeedConfig struct {
	StoreConfig
	StoreTimeout time.Duration

	Files     []string
	Prune     bool
	DryRun    bool
	Draft     bool
	Synthetic int // recipes to generate instead of reading Files; 0: none
	RandSeed  uint64
	Schema    bool
	Progress  string
	LogLevel  string
}

const seedUsage = `Usage:
  recipesd seed [flags] FILE|DIR...         seed the catalog from files
  recipesd seed [flags] -synthetic N        seed a generated catalog of N recipes
  recipesd seed -schema                     print the JSON Schema of catalog files

Loads catalog files (.json, .yaml or .yml; directories are searched for
them) into the store: a Redis (-redis-url) or the data directory of a
stopped server (-data-dir). Every file is read and checked in full first;
if anything is wrong, every problem is listed with its file, line, id and
field, and nothing is written. Then the whole catalog is written in one
atomic step and published at once: devices see the old catalog or the new
one, never a mix. Recipes and categories are matched by id and slug, so
seeding the same files twice changes nothing. With -draft the content is
saved as drafts for editors to review and publish instead: devices see
nothing change and the catalog version stays.

Exit status: 0 done (or nothing to do), 1 the store failed, 2 bad flags or
bad input (nothing written), 3 the data directory is in use by a running
server (nothing written).

Flags:
`

// seedMemoryLimit is the Go heap size above which the garbage collector
// of a seed works harder (a soft limit: a bigger catalog still fits). It
// keeps seeding 100,000 recipes under 500 MB; GOMEMLIMIT overrides it.
const seedMemoryLimit = 400 << 20

// parseSeedFlags parses "recipesd seed" flags over environment defaults.
func parseSeedFlags(args []string, getenv func(string) string, stderr io.Writer) (SeedConfig, error) {
	var c SeedConfig
	fs := flag.NewFlagSet("recipesd seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), seedUsage)
		fs.PrintDefaults()
	}
	e := &envFlags{fs: fs, getenv: getenv}
	e.store(&c.StoreConfig)
	e.Duration(&c.StoreTimeout, "store-timeout", "RECIPESD_SEED_STORE_TIMEOUT", time.Minute, "longest wait for one store round trip; the write of a big catalog is one")
	e.String(&c.LogLevel, "log-level", "RECIPESD_LOG_LEVEL", "warn", "level of the store's log lines on stderr: debug, info, warn or error")
	// What to do is never taken from the environment: a stray variable must
	// not turn every seed into a prune.
	fs.BoolVar(&c.Prune, "prune", false, "also remove the categories and recipes the files do not hold (in the same atomic write), and list them")
	fs.BoolVar(&c.Draft, "draft", false, "save the content as drafts for editors to review and publish, instead of publishing it; devices see nothing change (not with -prune)")
	fs.BoolVar(&c.DryRun, "dry-run", false, "print what would be added, changed and removed, per category, and write nothing")
	fs.IntVar(&c.Synthetic, "synthetic", 0, "instead of files, seed `N` generated recipes (valid, realistic-looking variations of the demo catalog) for load tests")
	fs.Uint64Var(&c.RandSeed, "rand-seed", 1, "seed of the -synthetic generator: the same N and seed give the same catalog")
	fs.BoolVar(&c.Schema, "schema", false, "print the JSON Schema of catalog files to stdout and exit")
	fs.StringVar(&c.Progress, "progress", progressAuto, "progress display on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or off")
	// Flags may come after the files too: seed data/ -dry-run.
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return c, errHelp
			}
			return c, &usageError{err}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			c.Files = append(c.Files, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		c.Files, args = append(c.Files, rest[0]), rest[1:]
	}
	if len(e.errs) == 0 {
		e.errs = c.validate()
	}
	if len(e.errs) > 0 {
		return c, &usageError{errors.Join(e.errs...)}
	}
	return c, nil
}

func (c *SeedConfig) validate() []error {
	if c.Schema {
		return nil
	}
	errs := c.StoreConfig.validate()
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Synthetic >= 0 && c.Synthetic <= 10_000_000, "-synthetic %d: must be between 1 and 10000000", c.Synthetic)
	check(!c.Draft || !c.Prune, "-draft with -prune: pruning removes published content, which is not a draft; seed drafts without -prune")
	check(c.Synthetic == 0 || len(c.Files) == 0, "give files or -synthetic, not both")
	check(c.Synthetic > 0 || len(c.Files) > 0, "no catalog files given (try \"recipesd seed -h\")")
	check(c.StoreTimeout >= 100*time.Millisecond, "-store-timeout %s: must be at least 100ms", c.StoreTimeout)
	check(c.Progress == progressAuto || c.Progress == progressBar || c.Progress == progressPlain || c.Progress == progressOff,
		"-progress %q: must be auto, bar, plain or off", c.Progress)
	var lvl slog.Level
	check(lvl.UnmarshalText([]byte(c.LogLevel)) == nil, "-log-level %q: must be debug, info, warn or error", c.LogLevel)
	return errs
}

// seedCommand runs "recipesd seed".
func seedCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	c, err := parseSeedFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	if c.Schema {
		_, err := stdout.Write(seed.Schema())
		return err
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		// A big catalog is in memory twice at the end, as records and as
		// JSON; collect garbage harder rather than grow past the limit.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(seedMemoryLimit))
	}
	start := time.Now()
	log := newLogger(Config{LogFormat: "text", LogLevel: c.LogLevel}, stderr)
	store, err := openStore(ctx, c.StoreConfig, c.StoreTimeout, log)
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	prog := newProgress(stderr, c.Progress)
	defer prog.end()

	cat, err := readSeed(ctx, c, store, prog)
	if err != nil {
		return err
	}
	read := time.Now()
	before, err := store.Version(ctx)
	if err != nil {
		return err
	}
	what := "writing"
	if c.DryRun {
		what = "comparing"
	}
	prog.busy(fmt.Sprintf("%s %d categories and %d recipes", what, len(cat.Categories), len(cat.Recipes)))
	rep, err := seed.Sync(ctx, store, cat, seed.SyncOptions{Prune: c.Prune, DryRun: c.DryRun, Draft: c.Draft})
	prog.end()
	if err != nil {
		return seedError(err)
	}
	after, err := store.Version(ctx)
	if err != nil {
		return err
	}
	if err := rep.WriteDiff(stdout, c.DryRun); err != nil {
		return err
	}
	took := fmt.Sprintf("%s (reading %s, writing %s)", time.Since(start).Round(time.Millisecond),
		read.Sub(start).Round(time.Millisecond), time.Since(read).Round(time.Millisecond))
	if c.DryRun {
		took = strings.Replace(took, "writing", "comparing", 1)
	}
	switch {
	case c.DryRun && c.Draft:
		fmt.Fprintf(stdout, "dry run, nothing written; as drafts for review: %s; %s\n", rep, took)
	case c.DryRun:
		fmt.Fprintf(stdout, "dry run, nothing written: %s; %s\n", rep, took)
	case c.Draft && len(rep.Changes) == 0:
		fmt.Fprintf(stdout, "nothing to change: %s; %s\n", rep, took)
	case c.Draft:
		fmt.Fprintf(stdout, "seeded as drafts, awaiting review by editors: %s; catalog version %d unchanged (nothing published); %s\n", rep, after, took)
	case before == after:
		fmt.Fprintf(stdout, "nothing to change: %s; %s\n", rep, took)
	default:
		fmt.Fprintf(stdout, "seeded %s; catalog version %d -> %d; %s\n", rep, before, after, took)
	}
	return nil
}

// closeStore closes store and reports its error in *err unless there is
// one already. (What the embedded store wrote is safe in its journal; the
// error would be compacting it.)
func closeStore(store *catalog.Store, err *error) {
	if cerr := store.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

// readSeed reads the catalog files, or generates the synthetic catalog.
func readSeed(ctx context.Context, c SeedConfig, store *catalog.Store, prog *progress) (seed.Catalog, error) {
	if c.Synthetic > 0 {
		prog.busy(fmt.Sprintf("generating %d recipes", c.Synthetic))
		cat, err := seed.Synthetic(c.Synthetic, c.RandSeed)
		prog.end()
		return cat, err
	}
	opts := seed.ReadOptions{Progress: func(done, total int64) { prog.update("reading", done, total, "MB") }}
	if !c.Prune {
		// Recipes may go into categories already in the store; with
		// -prune the files must hold every category.
		known := make(map[string]bool)
		if c.Draft {
			// Drafts may also go into categories that are drafts.
			stored, err := store.EditorCategories(ctx)
			if err != nil {
				return seed.Catalog{}, err
			}
			for _, s := range stored {
				known[s.Slug] = true
			}
		} else {
			stored, err := store.Categories(ctx)
			if err != nil {
				return seed.Catalog{}, err
			}
			for _, s := range stored {
				known[s.Slug] = true
			}
		}
		opts.Known = func(slug string) bool { return known[slug] }
	}
	cat, err := seed.ReadFiles(c.Files, opts)
	prog.end()
	if err != nil {
		return cat, seedError(err)
	}
	return cat, nil
}

// seedError makes bad input, found in the files or by the store, a usage
// error (exit 2) that lists every problem.
func seedError(err error) error {
	var pe *seed.ProblemsError
	switch {
	case errors.As(err, &pe):
		what := "problems"
		if len(pe.Problems) == 1 {
			what = "problem"
		}
		return &usageError{fmt.Errorf("%d %s in the catalog; nothing was written:\n%s", len(pe.Problems), what, formatProblems(pe.Problems))}
	case recipes.ErrorCode(err) == recipes.EINVALID:
		return &usageError{fmt.Errorf("the store refused the catalog; nothing was written: %s", recipes.ErrorMessage(err))}
	}
	return err
}

func formatProblems(ps []seed.Problem) string {
	var b []byte
	for _, p := range ps {
		b = append(b, "  "...)
		b = append(b, p.String()...)
		b = append(b, '\n')
	}
	return string(b[:max(len(b)-1, 0)])
}
