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
	"strings"
	"sync"
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
  appliance bench -credentials FILE [flags]
                                           simulate a fleet of appliances for load tests
                                           (appliance bench -h)
  appliance bench-devices -n N -o FILE     write a catalog file of N bench devices to seed

-addr may list several servers, comma-separated: the appliance tries them in
turn, with backoff, whenever it has no connection, and follows a server that
sends it elsewhere (DISCONNECT 0x9C or 0x9D with a Server Reference). A
request not answered when a connection drops is sent again on the next.

Flags (each defaults to an environment variable):
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "bench":
			return benchCommand(ctx, args[1:], getenv, stdout, stderr)
		case "bench-devices":
			return benchDevicesCommand(args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("appliance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	var (
		o        appliance.Options
		so       simulator.Options
		addrs    string
		askEvery time.Duration
	)
	fs.StringVar(&addrs, "addr", or(getenv("APPLIANCE_ADDR"), "127.0.0.1:1883"), "MQTT address of recipesd, or several, comma-separated (APPLIANCE_ADDR)")
	fs.StringVar(&o.ID, "id", or(getenv("APPLIANCE_ID"), "demo-oven"), "device ID (APPLIANCE_ID)")
	fs.StringVar(&o.Password, "secret", getenv("APPLIANCE_SECRET"), "device secret (APPLIANCE_SECRET); empty connects anonymously")
	fs.DurationVar(&so.Delay, "delay", 0, "run: wait this long before answering each command")
	fs.BoolVar(&so.NoAnswer, "no-answer", false, "run: never answer commands")
	fs.DurationVar(&askEvery, "ask-every", 0, "run: also ask for the categories this often (0: never)")
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
	servers, err := appliance.ParseServers(addrs)
	if err != nil {
		fmt.Fprintln(stderr, "appliance: -addr:", err)
		return 2
	}
	o.Anonymous = o.Password == ""
	var logMu sync.Mutex // commands are handled, and logged, in parallel
	logf := func(format string, args ...any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintf(stderr, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
	sopts := appliance.SessionOptions{Servers: servers}
	if topic == "" {
		return serve(ctx, o, sopts, so, askEvery, logf, stderr)
	}

	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sess := appliance.NewSession(o, sopts)
	sctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sess.Run(sctx) }()
	defer func() { stop(); <-done }()
	r, err := sess.Ask(dctx, appliance.Request{Topic: topic})
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

// serve is the "run" mode: the machine stays connected, to one server of
// the list or another, answers commands and, every askEvery, asks for the
// categories.
func serve(ctx context.Context, o appliance.Options, sopts appliance.SessionOptions, so simulator.Options,
	askEvery time.Duration, logf func(string, ...any), stderr io.Writer) int {
	so.Logf, sopts.Logf = logf, logf
	m := simulator.New(so)
	sopts.OnConnect = m.Attach
	sess := appliance.NewSession(o, sopts)
	fmt.Fprintf(stderr, "appliance %s answering commands on %s (servers %s)\n", o.ID, appliance.CommandTopic(o.ID), strings.Join(sopts.Servers, ", "))
	if askEvery > 0 {
		go ask(ctx, sess, askEvery, logf)
	}
	if err := sess.Run(ctx); err != nil {
		fmt.Fprintln(stderr, "appliance:", err)
		return 1
	}
	return 0
}

// ask asks for the categories every interval until ctx ends.
func ask(ctx context.Context, sess *appliance.Session, every time.Duration, logf func(string, ...any)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		actx, cancel := context.WithTimeout(ctx, time.Minute)
		r, err := sess.Ask(actx, appliance.Request{Topic: "recipes/categories"})
		cancel()
		if err != nil {
			logf("categories: %v", err)
			continue
		}
		logf("categories: %d", r.Status)
	}
}
