package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/recipes"
)

const deviceUsage = `Usage:
  recipesd device add ID -model MODEL [-locale TAG]
                                        register a device; prints its secret once
  recipesd device list [-json]          list devices
  recipesd device model ID -model MODEL change its model (it then sees that model's recipes)
  recipesd device locale ID -locale TAG change its language (BCP 47, like de-AT; -locale '' for
                                        the catalog's default)
  recipesd device rotate ID             issue a new secret (printed once); the old one stops working
  recipesd device disable ID            end its session and refuse its connections
  recipesd device enable ID             admit it again
  recipesd device delete ID             forget the device and its secret

A running server sharing the store ends the session of a device that is
disabled, deleted, re-keyed or given another model or locale at once
(DISCONNECT 0x98), so that it reconnects as it now is.

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
		locale string
		asJSON bool
	)
	e := newEnvFlags("recipesd device", deviceUsage, getenv, stderr)
	usage := e.fs.Usage
	e.fs.Usage = func() {
		usage()
		fmt.Fprintf(e.fs.Output(), "\nModels: %s\n", strings.Join(recipes.Models, ", "))
	}
	e.store(&sc)
	e.fs.StringVar(&model, "model", "", "appliance model of the device (add, model)")
	e.fs.StringVar(&locale, "locale", "", "BCP 47 language tag of the device, like de or de-AT (add, locale)")
	e.fs.BoolVar(&asJSON, "json", false, "list as JSON")
	pos, err := parseStoreCommand(e, &sc, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		e.fs.Usage()
		return usagef("device: missing action (add, list, model, locale, rotate, disable, enable or delete)")
	}
	action, ids := pos[0], pos[1:]
	want := 1
	if action == "list" {
		want = 0
	}
	if !deviceActions[action] {
		return usagef("device: unknown action %q (add, list, model, locale, rotate, disable, enable or delete)", action)
	}
	if len(ids) != want {
		return usagef("device %s: takes %d device ID, got %d arguments", action, want, len(ids))
	}
	if (action == "add" || action == "model") && model == "" {
		return usagef("device %s: -model is required (%s)", action, strings.Join(recipes.Models, ", "))
	}
	if action != "add" && action != "locale" && flagGiven(e.fs, "locale") {
		return usagef("device %s: -locale is for add and locale only", action)
	}
	if action == "locale" && !flagGiven(e.fs, "locale") {
		return usagef("device locale: -locale is required (a BCP 47 tag like de-AT, or '' for the catalog's default)")
	}

	store, err := openStore(ctx, sc, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	err = runDeviceAction(ctx, store.ids, action, ids, deviceArgs{model: model, locale: locale}, asJSON, stdout, stderr)
	if action != "list" {
		var detail []string
		if model != "" {
			detail = append(detail, "model="+model)
		}
		if locale != "" {
			detail = append(detail, "locale="+locale)
		}
		store.record(ctx, stderr, "device "+action, "id="+ids[0], strings.Join(detail, " "), err)
	}
	if recipes.ErrorCode(err) == recipes.EINVALID {
		return &usageError{fmt.Errorf("device %s: %w", action, err)}
	}
	return err
}

var deviceActions = map[string]bool{"add": true, "list": true, "model": true, "locale": true, "rotate": true, "disable": true, "enable": true, "delete": true}

// deviceArgs are the flags that describe a device.
type deviceArgs struct{ model, locale string }

// flagGiven reports whether flag name was set on the command line.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

func runDeviceAction(ctx context.Context, store *identity.Store, action string, ids []string, args deviceArgs, asJSON bool, stdout, stderr io.Writer) error {
	model := args.model
	if action == "list" {
		devs, err := store.Devices(ctx)
		if err != nil {
			return fmt.Errorf("device list: %w", err)
		}
		return newListing(devs, "ID\tMODEL\tLOCALE\tENABLED\tCREATED\tLAST SEEN", func(d recipes.Device) string {
			seen := "never"
			if !d.LastSeen.IsZero() {
				seen = d.LastSeen.Local().Format(time.DateTime)
			}
			locale := d.Locale
			if locale == "" {
				locale = "-"
			}
			return fmt.Sprintf("%s\t%s\t%s\t%t\t%s\t%s", d.ID, d.Model, locale, d.Enabled, d.CreatedAt.Local().Format(time.DateTime), seen)
		}).print(stdout, asJSON)
	}
	id := ids[0]
	var err error
	switch action {
	case "add":
		var secret string
		if secret, err = store.RegisterDevice(ctx, recipes.Device{ID: id, Model: model, Locale: args.locale}); err == nil {
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "device %q added (model %s); its secret is above and cannot be shown again\n", id, model)
		}
	case "model":
		if err = store.SetDeviceModel(ctx, id, model); err == nil {
			fmt.Fprintf(stderr, "device %q is now a %s\n", id, model)
		}
	case "locale":
		var d recipes.Device
		if d, err = store.UpdateDevice(ctx, id, recipes.DeviceUpdate{Locale: &args.locale}); err == nil {
			if d.Locale == "" {
				fmt.Fprintf(stderr, "device %q speaks the catalog's default language\n", id)
			} else {
				fmt.Fprintf(stderr, "device %q speaks %s\n", id, d.Locale)
			}
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
