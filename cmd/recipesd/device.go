package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

const deviceUsage = `Usage:
  recipesd device add ID -model MODEL   register a device; prints its secret once
  recipesd device list [-json]          list devices
  recipesd device model ID -model MODEL change its model (it then sees that model's recipes)
  recipesd device rotate ID             issue a new secret (printed once); the old one stops working
  recipesd device disable ID            end its session and refuse its connections
  recipesd device enable ID             admit it again
  recipesd device delete ID             forget the device and its secret

A running server sharing the store ends the session of a device that is
disabled, deleted, re-keyed or given another model at once (DISCONNECT
0x98).

A new secret is the only thing written to standard output, so that scripts
can capture it: SECRET=$(recipesd device add oven-1 -model CM-300).
The store flags (-data-dir, -redis-url, -key-prefix) say which catalog to
use; an embedded store in use by a running server is locked: stop the
server, or run both against Redis.

Flags:
`

// deviceCmd runs "recipesd device ...".
func deviceCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sc     StoreConfig
		model  string
		asJSON bool
	)
	fs := flag.NewFlagSet("recipesd device", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), deviceUsage)
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nModels: %s\n", strings.Join(recipes.Models, ", "))
	}
	e := &envFlags{fs: fs, getenv: getenv}
	e.store(&sc)
	fs.StringVar(&model, "model", "", "appliance model of the device (add, model)")
	fs.BoolVar(&asJSON, "json", false, "list as JSON")
	pos, err := parseStoreCommand(fs, e, &sc, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		fs.Usage()
		return usagef("device: missing action (add, list, model, rotate, disable, enable or delete)")
	}
	action, ids := pos[0], pos[1:]
	want := 1
	if action == "list" {
		want = 0
	}
	if !deviceActions[action] {
		return usagef("device: unknown action %q (add, list, model, rotate, disable, enable or delete)", action)
	}
	if len(ids) != want {
		return usagef("device %s: takes %d device ID, got %d arguments", action, want, len(ids))
	}
	if (action == "add" || action == "model") && model == "" {
		return usagef("device %s: -model is required (%s)", action, strings.Join(recipes.Models, ", "))
	}

	store, err := openStore(ctx, sc, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	reg := openIdentity(store.rdb, sc, 5*time.Second, 0, slog.New(slog.DiscardHandler))
	err = runDeviceAction(ctx, reg, action, ids, model, asJSON, stdout, stderr)
	if recipes.ErrorCode(err) == recipes.EINVALID {
		return &usageError{fmt.Errorf("device %s: %w", action, err)}
	}
	return err
}

var deviceActions = map[string]bool{"add": true, "list": true, "model": true, "rotate": true, "disable": true, "enable": true, "delete": true}

func runDeviceAction(ctx context.Context, store *identity.Store, action string, ids []string, model string, asJSON bool, stdout, stderr io.Writer) error {
	if action == "list" {
		devs, err := store.Devices(ctx)
		if err != nil {
			return fmt.Errorf("device list: %w", err)
		}
		return printDevices(stdout, devs, asJSON)
	}
	id := ids[0]
	var err error
	switch action {
	case "add":
		var secret string
		if secret, err = store.AddDevice(ctx, id, model); err == nil {
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "device %q added (model %s); its secret is above and cannot be shown again\n", id, model)
		}
	case "model":
		if err = store.SetDeviceModel(ctx, id, model); err == nil {
			fmt.Fprintf(stderr, "device %q is now a %s\n", id, model)
		}
	case "rotate":
		var secret string
		if secret, err = store.RotateDeviceSecret(ctx, id); err == nil {
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "device %q has a new secret, above; the old one no longer works\n", id)
		}
	case "disable", "enable":
		if err = store.SetDeviceEnabled(ctx, id, action == "enable"); err == nil {
			fmt.Fprintf(stderr, "device %q %sd\n", id, action)
		}
	case "delete":
		if err = store.DeleteDevice(ctx, id); err == nil {
			fmt.Fprintf(stderr, "device %q deleted\n", id)
		}
	}
	switch recipes.ErrorCode(err) {
	case "":
		return nil
	case recipes.ENOTFOUND, recipes.ECONFLICT, recipes.EINVALID:
		return &messageError{msg: recipes.ErrorMessage(err), err: err}
	}
	return fmt.Errorf("device %s %s: %w", action, id, err)
}

// messageError shows only a domain error's message, written for the user,
// while errors.Is and errors.As still see the error.
type messageError struct {
	msg string
	err error
}

func (e *messageError) Error() string { return e.msg }
func (e *messageError) Unwrap() error { return e.err }

func printDevices(w io.Writer, devs []recipes.Device, asJSON bool) error {
	if asJSON {
		if devs == nil {
			devs = []recipes.Device{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(devs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODEL\tENABLED\tCREATED\tLAST SEEN")
	for _, d := range devs {
		seen := "never"
		if !d.LastSeen.IsZero() {
			seen = d.LastSeen.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", d.ID, d.Model, d.Enabled, d.CreatedAt.Local().Format(time.DateTime), seen)
	}
	return tw.Flush()
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments ("device add oven-1 -model CM-100"), which the
// flag package alone stops at, and returns the positional ones.
// parseStoreCommand parses the flags of a subcommand that opens the store
// (flags may follow its arguments) and reports bad flags, environment values
// or store settings as a usage error. It returns the positional arguments.
func parseStoreCommand(fs *flag.FlagSet, e *envFlags, sc *StoreConfig, args []string) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, &usageError{err}
	}
	if len(e.errs) == 0 {
		e.errs = sc.validate()
	}
	if len(e.errs) > 0 {
		return nil, &usageError{errors.Join(e.errs...)}
	}
	return pos, nil
}

func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
