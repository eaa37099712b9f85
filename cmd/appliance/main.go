// Command appliance is a simulated cooking machine that speaks
// PROTOCOL.md exactly as firmware would: it asks for recipes, and in "run"
// mode it stays connected and answers the server's commands. It is the
// reference client for device developers.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/recipesd/recipesd/cmd/internal/simulator"
	"github.com/recipesd/recipesd/internal/appliance"
)

const usage = `Usage:
  appliance [flags] categories             print the published categories
  appliance [flags] list CATEGORY          print a category's recipes
  appliance [flags] get CATEGORY RECIPE    print one recipe
  appliance [flags] run                    stay connected and answer commands
                                           (recipe.install, program.start, program.stop,
                                           lid.lock, lid.unlock) until interrupted

Flags (each defaults to an environment variable):
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appliance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var (
		o  appliance.Options
		so simulator.Options
	)
	fs.StringVar(&o.Addr, "addr", or(getenv("APPLIANCE_ADDR"), "127.0.0.1:1883"), "MQTT address of recipesd (APPLIANCE_ADDR)")
	fs.StringVar(&o.ID, "id", or(getenv("APPLIANCE_ID"), "demo-oven"), "device ID (APPLIANCE_ID)")
	fs.StringVar(&o.Password, "secret", getenv("APPLIANCE_SECRET"), "device secret (APPLIANCE_SECRET); empty connects anonymously")
	fs.DurationVar(&so.Delay, "delay", 0, "run: wait this long before answering each command")
	fs.BoolVar(&so.NoAnswer, "no-answer", false, "run: never answer commands")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	pos := fs.Args()
	topic := ""
	switch {
	case len(pos) == 1 && pos[0] == "categories":
		topic = "recipes/categories"
	case len(pos) == 2 && pos[0] == "list":
		topic = "recipes/" + pos[1]
	case len(pos) == 3 && pos[0] == "get":
		topic = "recipes/" + pos[1] + "/" + pos[2]
	case len(pos) == 1 && pos[0] == "run":
	default:
		fs.Usage()
		return 2
	}
	o.Anonymous = o.Password == ""

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := appliance.Dial(dctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "appliance:", err)
		return 1
	}
	defer c.Close()

	if topic == "" {
		so.Logf = func(format string, args ...any) {
			fmt.Fprintf(stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
		}
		fmt.Fprintf(stderr, "appliance %s connected to %s; answering commands on %s\n", o.ID, o.Addr, appliance.CommandTopic(o.ID))
		if err := simulator.Serve(ctx, c, so); err != nil {
			fmt.Fprintln(stderr, "appliance:", err)
			return 1
		}
		return 0
	}
	r, err := c.Get(dctx, topic, nil)
	if err != nil {
		fmt.Fprintln(stderr, "appliance:", err)
		return 1
	}
	var pretty any
	if json.Unmarshal(r.Payload, &pretty) == nil {
		b, _ := json.MarshalIndent(pretty, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		fmt.Fprintln(stdout, string(r.Payload))
	}
	if r.Status != 200 {
		return 1
	}
	return 0
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
