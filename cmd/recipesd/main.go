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

	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/recipes"
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
	exitLocked  = 3 // the embedded store's data directory is in use by another process
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
	if name != "serve" {
		ctx = recipes.WithActor(ctx, cliActor(getenv))
	}
	var err error
	switch name {
	case "serve":
		err = serve(ctx, args, getenv, stderr)
	case "device":
		err = deviceCmd(ctx, args, getenv, stdout, stderr)
	case "seed":
		err = seedCommand(ctx, args, getenv, stdout, stderr)
	case "export":
		err = exportCommand(ctx, args, getenv, stdout, stderr)
	case "user", "staff":
		err = userCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		err = tokenCmd(ctx, args, getenv, stdout, stderr)
	case "nodes":
		err = nodesCmd(ctx, args, getenv, stdout, stderr)
	case "drain":
		err = drainCmd(ctx, args, getenv, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		err = usagef("unknown command %q (try \"recipesd help\")", name)
	}
	var ue *usageError
	var le *embedded.LockedError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "recipesd:", err)
		return exitUsage
	case errors.As(err, &le):
		fmt.Fprintln(stderr, "recipesd:", err)
		return exitLocked
	}
	fmt.Fprintln(stderr, "recipesd:", err)
	return exitFailure
}

const usage = `recipesd - recipe server for smart cooking appliances

Usage:
  recipesd [serve] [flags]   run the server (default)
  recipesd device ACTION     register and manage devices ("recipesd device -h")
  recipesd seed [flags] FILE|DIR...
                             load catalog files (JSON or YAML) into the store
  recipesd export [flags]    write the catalog out in the same format
  recipesd user ACTION NAME  manage staff accounts of the admin UI: add, passwd, role,
                             disable, enable, list ("recipesd user -h"; also "recipesd staff")
  recipesd token ACTION NAME manage API tokens ("recipesd token -h")
  recipesd nodes [-json]     list the recipesd nodes sharing the store
  recipesd drain [-wait] NODE-ID
                             send a node's devices to the others and stop it
  recipesd help              show this help

Run "recipesd <command> -h" for a command's flags. Every flag can also be set
through the environment variable named in its help.
`
