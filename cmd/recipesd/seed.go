package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/internal/secretsfile"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// SeedConfig is everything "recipesd seed" can be told.
type SeedConfig struct {
	StoreConfig
	StoreTimeout time.Duration

	Files      []string
	Prune      bool
	DryRun     bool
	Draft      bool
	SecretsOut string // file for the secrets issued to new devices; empty: issue none
	// UpdateDevices lets the files replace registered devices' secrets
	// and enabled flags.
	UpdateDevices  bool
	Synthetic      int // recipes to generate instead of reading Files; 0: none
	RandSeed       uint64
	SyntheticLangs string // comma-separated languages to translate the synthetic catalog to

	growMemoryLimit bool // the seed sets the soft memory limit (GOMEMLIMIT is not set)
	Schema          bool
	Progress        string
	LogLevel        string
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

Files may also list devices (id, model, enabled, secret_hash), registered
in the same atomic write without changing the catalog version; a seed
never removes devices, not even with -prune (that is "recipesd device
delete"). secret_hash is "sha256:" and the hex SHA-256 of the device's
secret; plaintext secrets are refused. A new device without one gets a
secret issued only with -secrets-out FILE, which receives "id,secret"
lines (mode 0600, never overwritten) before anything is stored. A
registered device gets its model from the files but keeps its secret and
enabled flag, which staff may have changed since (a leaked secret rotated,
a stolen device disabled); each one the files give differently is listed
as kept. -update-devices replaces them with the files' (restoring a
backup, re-keying a fleet), listing what changes in each device.

Exit status: 0 done (or nothing to do), 1 the store failed, 2 bad flags or
bad input (nothing written), 3 the data directory is in use by a running
server (nothing written).

Flags:
`

// seedMemoryLimit is the Go heap size above which the garbage collector
// of a seed works harder (a soft limit: a bigger catalog still fits). It
// keeps seeding 100,000 recipes under 500 MB; GOMEMLIMIT overrides it.
// A catalog of more than seedMemoryLimit/seedMemoryPerByte bytes (one in
// several languages, typically) raises it to seedMemoryPerByte times its
// size: below that the collector would run nearly all the time (at 3x,
// 100,000 recipes in two languages took 15.7 s, at 4x 13.6 s, peak RSS
// 0.94 and 1.03 GB).
const (
	seedMemoryLimit   = 400 << 20
	seedMemoryPerByte = 4
)

// growMemoryLimit raises the soft memory limit for a catalog of size
// bytes (see seedMemoryLimit).
func growMemoryLimit(size int64) {
	if want := size * seedMemoryPerByte; want > seedMemoryLimit && want > debug.SetMemoryLimit(-1) {
		debug.SetMemoryLimit(want)
	}
}

// parseSeedFlags parses "recipesd seed" flags over environment defaults.
func parseSeedFlags(args []string, getenv func(string) string, stderr io.Writer) (SeedConfig, error) {
	var c SeedConfig
	e := newEnvFlags("recipesd seed", seedUsage, getenv, stderr)
	e.batch(&c.StoreConfig, &c.StoreTimeout, &c.LogLevel, "longest wait for one store round trip; the write of a big catalog is one")
	fs := e.fs
	// What to do is never taken from the environment: a stray variable must
	// not turn every seed into a prune.
	fs.BoolVar(&c.Prune, "prune", false, "also remove the categories and recipes the files do not hold (in the same atomic write), and list them; devices are never removed")
	fs.BoolVar(&c.Draft, "draft", false, "save the content as drafts for editors to review and publish, instead of publishing it; devices see nothing change (not with -prune, nor with devices in the files)")
	fs.BoolVar(&c.DryRun, "dry-run", false, "print what would be added, changed and removed, per category, and the devices, and write nothing")
	fs.BoolVar(&c.UpdateDevices, "update-devices", false, "let the files' secret_hash and enabled replace those of registered devices (restoring a backup, re-keying a fleet); without it registered devices get only their model from the files")
	fs.StringVar(&c.SecretsOut, "secrets-out", "", "issue secrets to the new devices that have no secret_hash, writing them as CSV (id,secret) to `FILE`, created with mode 0600 and never overwritten, before anything is stored")
	fs.IntVar(&c.Synthetic, "synthetic", 0, "instead of files, seed `N` generated recipes (valid, realistic-looking variations of the demo catalog) for load tests")
	fs.Uint64Var(&c.RandSeed, "rand-seed", 1, "seed of the -synthetic generator: the same N and seed give the same catalog")
	fs.StringVar(&c.SyntheticLangs, "synthetic-languages", "", "with -synthetic, translate every category and recipe to these `LANGS` (comma-separated BCP 47 tags, like de,fr) and declare them")
	fs.BoolVar(&c.Schema, "schema", false, "print the JSON Schema of catalog files to stdout and exit")
	fs.StringVar(&c.Progress, "progress", progressAuto, "progress display on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain or off")
	// Flags may come after the files too: seed data/ -dry-run.
	for {
		if err := e.parse(args); err != nil {
			return c, err
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
	return c, e.validated(c.validate)
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
	check(!c.Draft || c.SecretsOut == "", "-draft with -secrets-out: drafts cannot hold devices; seed devices without -draft")
	check(c.Synthetic == 0 || c.SecretsOut == "", "-synthetic with -secrets-out: a synthetic catalog has no devices")
	check(!c.Draft || !c.UpdateDevices, "-draft with -update-devices: drafts cannot hold devices; seed devices without -draft")
	check(c.Synthetic == 0 || !c.UpdateDevices, "-synthetic with -update-devices: a synthetic catalog has no devices")
	check(c.Synthetic == 0 || len(c.Files) == 0, "give files or -synthetic, not both")
	check(c.Synthetic > 0 || c.SyntheticLangs == "", "-synthetic-languages needs -synthetic")
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
		c.growMemoryLimit = true
	}
	start := time.Now()
	var secrets *secretsfile.Issued
	if c.SecretsOut != "" && !c.DryRun {
		// Created first, so that a path in the way stops the seed at once.
		if secrets, err = createSecretsOut(c.SecretsOut); err != nil {
			return err
		}
		defer func() { err = secrets.Finish(err, catalog.ErrOutcomeUnknown, stderr) }()
	}
	store, err := openStore(ctx, c.StoreConfig, c.StoreTimeout, batchLogger(c.LogLevel, stderr))
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	prog := newProgress(stderr, c.Progress)
	defer prog.end()

	cat, err := readSeed(ctx, c, store.Store, prog)
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
	if len(cat.Devices) > 0 {
		prog.busy(fmt.Sprintf("%s %d categories, %d recipes and %d devices", what, len(cat.Categories), len(cat.Recipes), len(cat.Devices)))
	} else {
		prog.busy(fmt.Sprintf("%s %d categories and %d recipes", what, len(cat.Categories), len(cat.Recipes)))
	}
	opts := seed.SyncOptions{Prune: c.Prune, DryRun: c.DryRun, Draft: c.Draft, UpdateDevices: c.UpdateDevices}
	switch {
	case secrets != nil:
		opts.Secrets = func(issued map[string]string) error {
			if err := secrets.Write(issued); err != nil {
				return fmt.Errorf("-secrets-out: %w", err)
			}
			return nil
		}
	case c.SecretsOut != "": // a dry run: plan as if issuing
		opts.Secrets = func(map[string]string) error { return errors.New("a dry run issues no secrets") }
	}
	rep, err := seed.Sync(ctx, seedWriter{store.Store, store.ids}, cat, opts)
	prog.end()
	if !c.DryRun {
		detail := ""
		if err == nil {
			detail = rep.String()
		}
		store.record(ctx, stderr, "seed", "", detail, err)
	}
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
	case c.Draft && !rep.Changed():
		fmt.Fprintf(stdout, "nothing to change: %s; %s\n", rep, took)
	case c.Draft:
		fmt.Fprintf(stdout, "seeded as drafts, awaiting review by editors: %s; catalog version %d unchanged (nothing published); %s\n", rep, after, took)
	case !rep.Changed():
		fmt.Fprintf(stdout, "nothing to change: %s; %s\n", rep, took)
	case before == after:
		fmt.Fprintf(stdout, "seeded %s; catalog version %d unchanged (only devices changed); %s\n", rep, after, took)
	default:
		fmt.Fprintf(stdout, "seeded %s; catalog version %d -> %d; %s\n", rep, before, after, took)
	}
	if secrets != nil {
		secrets.Report(stdout)
	}
	return nil
}

// createSecretsOut creates the -secrets-out file, which must not exist.
func createSecretsOut(path string) (*secretsfile.Issued, error) {
	f, err := secretsfile.Create(path)
	switch {
	case errors.Is(err, fs.ErrExist):
		return nil, usagef("-secrets-out %s: the file exists; secrets are never written over a file, give a new name", path)
	case err != nil:
		return nil, fmt.Errorf("-secrets-out: %w", err)
	}
	return f, nil
}

// closeStore closes store and reports its error in *err unless there is
// one already. (What the embedded store wrote is safe in its journal; the
// error would be compacting it.)
func closeStore(store io.Closer, err *error) {
	if cerr := store.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}

// readSeed reads the catalog files, or generates the synthetic catalog.
func readSeed(ctx context.Context, c SeedConfig, store *catalog.Store, prog *progress) (seed.Catalog, error) {
	if c.Synthetic > 0 {
		prog.busy(fmt.Sprintf("generating %d recipes", c.Synthetic))
		cat, err := seed.Synthetic(c.Synthetic, c.RandSeed)
		if err == nil && c.SyntheticLangs != "" {
			langs := strings.Split(c.SyntheticLangs, ",")
			if c.growMemoryLimit {
				// As big as the file export would write: 1.4 KB a
				// recipe, and 0.65 KB more for each language.
				growMemoryLimit(int64(c.Synthetic) * int64(1400+650*len(langs)))
			}
			err = cat.Translate(langs...)
		}
		prog.end()
		return cat, err
	}
	opts := seed.ReadOptions{Progress: func(done, total int64) {
		if c.growMemoryLimit && done == 0 {
			growMemoryLimit(total)
		}
		prog.update("reading", done, total, "MB")
	}}
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
