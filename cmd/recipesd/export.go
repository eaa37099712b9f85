package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/recipesd/recipesd/internal/atomicfile"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/seed"
)

// ExportConfig is everything "recipesd export" can be told.
type ExportConfig struct {
	StoreConfig
	StoreTimeout time.Duration
	Output       string // file to write; empty or "-": stdout
	Format       string // json or yaml; empty: from Output's extension, else json
	NoDevices    bool   // leave the devices out
	LogLevel     string
}

const exportUsage = `Usage:
  recipesd export [flags]

Writes the published catalog, as one consistent snapshot, in the format
"recipesd seed" reads: export, then seed the file, and the catalog is the
same (seeding it back changes nothing). With -o the file is written to a
temporary name and renamed at the end, so it is never left half written.

The registered devices follow, with their model, enabled and secret hash
(never a secret), so that seeding the file provisions the same fleet;
-no-devices leaves them out. A file with devices is made readable by its
owner only.

Exit status: 0 done, 1 the store or the file failed, 2 bad flags, 3 the
data directory is in use by a running server.

Flags:
`

func parseExportFlags(args []string, getenv func(string) string, stderr io.Writer) (ExportConfig, error) {
	var c ExportConfig
	e := newEnvFlags("recipesd export", exportUsage, getenv, stderr)
	e.batch(&c.StoreConfig, &c.StoreTimeout, &c.LogLevel, "longest wait for one store round trip")
	fs := e.fs
	fs.StringVar(&c.Output, "o", "", "write to `FILE` instead of stdout")
	fs.StringVar(&c.Format, "format", "", "json or yaml; default: from the -o file's extension, else json")
	fs.BoolVar(&c.NoDevices, "no-devices", false, "leave the devices out: export only categories and recipes")
	if err := e.parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		e.errs = append(e.errs, fmt.Errorf("unexpected argument %q (use -o FILE)", fs.Arg(0)))
	}
	if c.Format == "" {
		c.Format = string(seed.JSON)
		if f, ok := seed.FormatOf(c.Output); ok {
			c.Format = string(f)
		}
	}
	if c.Format != string(seed.JSON) && c.Format != string(seed.YAML) {
		e.errs = append(e.errs, fmt.Errorf("-format %q: must be json or yaml", c.Format))
	}
	e.errs = append(e.errs, c.StoreConfig.validate()...)
	return c, e.err()
}

// exportCommand runs "recipesd export".
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	c, err := parseExportFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, c.StoreConfig, c.StoreTimeout, batchLogger(c.LogLevel, stderr))
	if err != nil {
		return err
	}
	defer closeStore(store, &err)
	var cat seed.Catalog
	langs, err := store.Languages(ctx)
	if err != nil {
		return err
	}
	if cat.Categories, cat.Recipes, err = store.Export(ctx); err != nil {
		return err
	}
	// A catalog in English alone, as every catalog was before languages,
	// exports as it always did.
	if langs.Default != recipes.DefaultLanguage || len(langs.Others) > 0 {
		cat.Languages = &recipes.LanguagesDecl{Default: langs.Default, Others: langs.Others, OthersGiven: true}
	}
	if !c.NoDevices {
		if cat.Devices, err = store.ids.ExportDevices(ctx); err != nil {
			return err
		}
	}
	if c.Output == "" || c.Output == "-" {
		return seed.WriteCatalog(stdout, seed.Format(c.Format), cat)
	}
	// Secret hashes let whoever has the file register the devices elsewhere.
	mode := os.FileMode(0o644)
	if len(cat.Devices) > 0 {
		mode = 0o600
	}
	if err := atomicfile.Write(c.Output, mode, func(w io.Writer) error {
		return seed.WriteCatalog(w, seed.Format(c.Format), cat)
	}); err != nil {
		return err
	}
	if len(cat.Devices) > 0 {
		fmt.Fprintf(stderr, "exported %d categories, %d recipes and %d devices to %s\n", len(cat.Categories), len(cat.Recipes), len(cat.Devices), c.Output)
	} else {
		fmt.Fprintf(stderr, "exported %d categories and %d recipes to %s\n", len(cat.Categories), len(cat.Recipes), c.Output)
	}
	return nil
}
