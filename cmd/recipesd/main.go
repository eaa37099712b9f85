// Command recipesd is the recipe server for cooking appliances: an MQTT 5
// broker with the recipe responder, the admin web UI and the catalog store,
// in one process. See the README for its subcommands and flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad flags, arguments or input
)

// usageError marks errors caused by how the command was called; they exit
// with exitUsage.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// run dispatches a subcommand and turns its error into an exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		name, args = args[0], args[1:]
	}
	var err error
	switch name {
	case "serve":
		err = serve(ctx, args, getenv, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usagef("unknown command %q (try \"recipesd help\")", name)
	}
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "recipesd:", err)
		return exitUsage
	}
	fmt.Fprintln(stderr, "recipesd:", err)
	return exitFailure
}

const usage = `recipesd - recipe server for smart cooking appliances

Usage:
  recipesd [serve] [flags]   run the server (default)
  recipesd help              show this help

Run "recipesd serve -h" for the server's flags. Every flag can also be set
through the environment variable named in its help.
`
