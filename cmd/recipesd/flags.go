package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/recipesd/recipesd/audit"
)

// errHelp is returned when -h was asked for; the help has been printed.
var errHelp = errors.New("help requested")

// envFlags registers flags whose defaults come from environment variables
// and remembers env values that do not parse, so that a bad variable is
// reported by name rather than silently ignored.
type envFlags struct {
	fs     *flag.FlagSet
	getenv func(string) string
	errs   []error
}

// newEnvFlags returns the flags of the command name; with a usage text,
// -h prints it before the flags.
func newEnvFlags(name, usage string, getenv func(string) string, stderr io.Writer) *envFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if usage != "" {
		fs.Usage = func() {
			fmt.Fprint(fs.Output(), usage)
			fs.PrintDefaults()
		}
	}
	return &envFlags{fs: fs, getenv: getenv}
}

func (e *envFlags) env(name string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	// Secrets may come from a file: NAME_FILE=/run/secrets/name.
	if path := e.getenv(name + "_FILE"); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			e.errs = append(e.errs, fmt.Errorf("%s_FILE: %w", name, err))
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return ""
}

func (e *envFlags) String(p *string, name, env, def, usage string) {
	if v := e.env(env); v != "" {
		def = v
	}
	e.fs.StringVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env))
}

// envDefault returns def, or the environment variable env parsed by parse;
// a value that does not parse is remembered as an error naming env.
func envDefault[T any](e *envFlags, env string, def T, parse func(string) (T, error), what string) T {
	v := e.env(env)
	if v == "" {
		return def
	}
	t, err := parse(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: not %s", env, v, what))
		return def
	}
	return t
}

func (e *envFlags) Int(p *int, name, env string, def int, usage string) {
	def = envDefault(e, env, def, strconv.Atoi, "an integer")
	e.fs.IntVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env))
}

func (e *envFlags) Float(p *float64, name, env string, def float64, usage string) {
	parse := func(v string) (float64, error) { return strconv.ParseFloat(v, 64) }
	def = envDefault(e, env, def, parse, "a number")
	e.fs.Float64Var(p, name, def, fmt.Sprintf("%s (env %s)", usage, env))
}

func (e *envFlags) Bool(p *bool, name, env string, def bool, usage string) {
	def = envDefault(e, env, def, strconv.ParseBool, "a boolean (true or false)")
	e.fs.BoolVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env))
}

func (e *envFlags) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	def = envDefault(e, env, def, time.ParseDuration, "a duration (like 60s or 500ms)")
	e.fs.DurationVar(p, name, def, fmt.Sprintf("%s (env %s)", usage, env))
}

// store registers the flags of StoreConfig.
func (e *envFlags) store(c *StoreConfig) {
	e.String(&c.DataDir, "data-dir", "RECIPESD_DATA_DIR", "./data", "directory of the embedded catalog store")
	e.String(&c.RedisURL, "redis-url", "RECIPESD_REDIS_URL", "", "Redis URL (redis://host:port/db); empty runs the embedded store in -data-dir")
	e.String(&c.KeyPrefix, "key-prefix", "RECIPESD_KEY_PREFIX", "recipesd", "prefix of every Redis key")
	e.Int(&c.RevisionsKept, "revisions-kept", "RECIPESD_REVISIONS_KEPT", 50, "revisions kept of each recipe and category")
	e.Int(&c.AuditKeep, "audit-keep", "RECIPESD_AUDIT_KEEP", audit.DefaultKeep, "audit log entries kept (about: whole blocks are trimmed)")
	e.Duration(&c.AuditMaxAge, "audit-max-age", "RECIPESD_AUDIT_MAX_AGE", audit.DefaultMaxAge, "audit log entries older than this are trimmed")
}

// batch registers the flags of a command that works through the store in
// one go (seed, export): where the store is, the longest wait on it, and
// the level of its log lines.
func (e *envFlags) batch(c *StoreConfig, timeout *time.Duration, logLevel *string, timeoutUsage string) {
	e.store(c)
	e.Duration(timeout, "store-timeout", "RECIPESD_SEED_STORE_TIMEOUT", time.Minute, timeoutUsage)
	e.String(logLevel, "log-level", "RECIPESD_LOG_LEVEL", "warn", "level of the store's log lines on stderr: debug, info, warn or error")
}

// parse parses args. After -h, whose help has been printed, it returns
// errHelp; a bad flag is a usage error.
func (e *envFlags) parse(args []string) error {
	err := e.fs.Parse(args)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	}
	return &usageError{err}
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments ("device add oven-1 -model CM-100"), which the
// flag package alone stops at, and returns the positional ones.
func (e *envFlags) parseInterspersed(args []string) ([]string, error) {
	var pos []string
	for {
		if err := e.parse(args); err != nil {
			return nil, err
		}
		if e.fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, e.fs.Arg(0))
		args = e.fs.Args()[1:]
	}
}

// err returns the errors found in the flags and the environment as one
// usage error, or nil.
func (e *envFlags) err() error {
	if len(e.errs) > 0 {
		return &usageError{errors.Join(e.errs...)}
	}
	return nil
}

// validated is [envFlags.err] after validate, which runs only if every
// value parsed: a bad environment value has already been reported.
func (e *envFlags) validated(validate func() []error) error {
	if len(e.errs) == 0 {
		e.errs = validate()
	}
	return e.err()
}

// parseStoreCommand parses the flags of a subcommand that opens the store
// (flags may follow its arguments) and reports bad flags, environment values
// or store settings as a usage error. It returns the positional arguments.
func parseStoreCommand(e *envFlags, sc *StoreConfig, args []string) ([]string, error) {
	pos, err := e.parseInterspersed(args)
	if err != nil {
		return nil, err
	}
	return pos, e.validated(sc.validate)
}
