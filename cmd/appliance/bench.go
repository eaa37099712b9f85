package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/fleet"
)

const benchUsage = `Usage:
  appliance bench -credentials FILE [flags]

Simulates a fleet of appliances against recipesd: each device of the
credentials file (CSV "id,secret", as "recipesd seed -secrets-out" writes;
"appliance bench-devices" makes a seed file of N bench devices) connects,
at -connect-rate, to one of the -addr servers in turn; the -active share of
them sends requests of the -mix at -rate each. After -warmup, requests are
measured for -duration; then the bench waits up to -timeout for the last
replies and disconnects.

Every request carries its own correlation data, and every reply is
accounted for: missing (never received), duplicate, stray (answering no
request of this run) and late (after -timeout). A live line on a terminal,
then a summary (-json: one JSON object, for scripts).

One process may open only so many sockets (it raises its soft limit of
open files to the hard limit first): -procs K runs K processes with a
share of the devices each and merges their summaries; -source spreads the
connections over several local addresses (on Linux, all of 127.0.0.0/8
is local), since a server admits only so many unauthenticated sockets per
source address.

Exit status: 0 done, 1 a reply was missing, duplicate or stray (or no
device connected), 2 bad flags or credentials.

Flags:
`

// benchConfig is everything "appliance bench" can be told.
type benchConfig struct {
	fleet.Options
	credentials string
	n           int
	mix         string
	procs       int
	shard       string // "i/K": this process is shard i of K (set by -procs for its children)
	jsonOut     bool
}

func parseBenchFlags(args []string, getenv func(string) string, stderr io.Writer) (benchConfig, error) {
	var c benchConfig
	fs := flag.NewFlagSet("appliance bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage); fs.PrintDefaults() }
	var addrs, sources string
	var qos, recvMax uint
	fs.StringVar(&addrs, "addr", or(getenv("APPLIANCE_ADDR"), "127.0.0.1:1883"), "MQTT address of recipesd, or several, comma-separated: devices are spread over them in turn (APPLIANCE_ADDR)")
	fs.StringVar(&c.credentials, "credentials", getenv("APPLIANCE_CREDENTIALS"), "`FILE` of the devices: CSV id,secret, as \"recipesd seed -secrets-out\" writes (APPLIANCE_CREDENTIALS)")
	fs.IntVar(&c.n, "n", 0, "simulate the first `N` devices of the file; 0: all")
	fs.Float64Var(&c.ConnectRate, "connect-rate", 0, "connects started per second; 0: all at once (a reconnect storm)")
	fs.DurationVar(&c.ConnectTimeout, "connect-timeout", 10*time.Second, "longest wait from dial to SUBACK")
	fs.Float64Var(&c.Active, "active", 0.02, "share of devices that send requests, 0..1")
	fs.Float64Var(&c.Rate, "rate", 1, "requests per second of each active device")
	fs.IntVar(&c.Inflight, "inflight", 16, "most unanswered requests per device; a request due beyond it is skipped (and counted)")
	fs.StringVar(&c.mix, "mix", fleet.DefaultMix, "request mix, kind=weight: categories, list, get, search (\"q\"), conditional (if-none-match with an earlier reply's ETag), notfound (a recipe that does not exist)")
	fs.UintVar(&qos, "qos", 1, "QoS of requests and replies, 0 or 1")
	fs.UintVar(&recvMax, "receive-maximum", 0, "Receive Maximum sent in CONNECT; 0: none (the server may send 65535 unacknowledged)")
	fs.DurationVar(&c.KeepAlive, "keepalive", 30*time.Second, "MQTT keep-alive; 0: none")
	fs.DurationVar(&c.Warmup, "warmup", 5*time.Second, "time from the first connect before requests are measured (connects are always measured)")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured window after the warm-up")
	fs.DurationVar(&c.Timeout, "timeout", 5*time.Second, "a reply later than this is late; after the window, the longest wait for the last replies")
	fs.StringVar(&sources, "source", "", "local IP addresses to connect from, comma-separated, in turn (127.0.0.2,127.0.0.3,…); empty: the system's choice")
	fs.IntVar(&c.procs, "procs", 1, "processes to spread the devices over (one process may open only so many files)")
	fs.BoolVar(&c.NoCommands, "no-commands", false, "do not subscribe to the command topic (by default every device answers every command at once with status 200)")
	fs.BoolVar(&c.jsonOut, "json", false, "print the summary as one JSON object")
	fs.StringVar(&c.shard, "shard", "", "internal: run shard `i/K` of the devices and stream JSON (what -procs gives each process)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	servers, err := appliance.ParseServers(addrs)
	check(err == nil, "-addr: %v", err)
	c.Servers = servers
	if sources != "" {
		c.Sources = strings.Split(sources, ",")
		for i := range c.Sources {
			c.Sources[i] = strings.TrimSpace(c.Sources[i])
		}
	}
	check(c.credentials != "", "-credentials: required (make devices with \"appliance bench-devices\" and \"recipesd seed -secrets-out\")")
	check(c.n >= 0, "-n %d: must be 0 or more", c.n)
	check(c.ConnectRate >= 0, "-connect-rate %g: must be 0 or more", c.ConnectRate)
	check(c.Active >= 0 && c.Active <= 1, "-active %g: must be between 0 and 1", c.Active)
	check(c.Rate > 0, "-rate %g: must be more than 0", c.Rate)
	check(c.Inflight > 0, "-inflight %d: must be more than 0", c.Inflight)
	check(qos <= 1, "-qos %d: must be 0 or 1", qos)
	check(recvMax <= 65535, "-receive-maximum %d: at most 65535", recvMax)
	check(c.KeepAlive >= 0 && c.KeepAlive <= 65535*time.Second && c.KeepAlive%time.Second == 0, "-keepalive %s: whole seconds, 0 to 65535s", c.KeepAlive)
	check(c.Duration > 0, "-duration %s: must be more than 0", c.Duration)
	check(c.Warmup >= 0, "-warmup %s: must be 0 or more", c.Warmup)
	check(c.Timeout > 0, "-timeout %s: must be more than 0", c.Timeout)
	check(c.ConnectTimeout > 0, "-connect-timeout %s: must be more than 0", c.ConnectTimeout)
	check(c.procs >= 1 && c.procs <= 64, "-procs %d: must be between 1 and 64", c.procs)
	mix, err := fleet.ParseMix(c.mix)
	check(err == nil, "-mix: %v", err)
	c.Mix, c.QoS, c.ReceiveMaximum = mix, byte(qos), uint16(recvMax)
	if c.KeepAlive == 0 {
		c.KeepAlive = -1 // fleet.Options: none
	}
	if c.shard != "" {
		_, _, err := parseShard(c.shard)
		check(err == nil, "-shard %q: %v", c.shard, err)
	}
	if len(errs) > 0 {
		return c, usageError{errors.Join(errs...)}
	}
	return c, nil
}

// benchChildEnv marks the processes -procs starts, for the tests, whose
// binary runs tests unless told otherwise.
const benchChildEnv = "APPLIANCE_BENCH_CHILD"

// usageError is an error in the flags: exit status 2.
type usageError struct{ error }

func parseShard(s string) (i, k int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	k, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || k < 1 || i < 0 || i >= k {
		return 0, 0, errors.New("want i/K with 0 ≤ i < K")
	}
	return i, k, nil
}

// benchCommand runs "appliance bench" and returns the exit status.
func benchCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	c, err := parseBenchFlags(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(stderr, "appliance bench:", err)
		return 2
	}
	if err != nil {
		return 2 // the flag package said what
	}
	devs, err := fleet.ReadCredentials(c.credentials)
	if err != nil {
		fmt.Fprintln(stderr, "appliance bench:", err)
		return 2
	}
	if c.n > 0 {
		if c.n > len(devs) {
			fmt.Fprintf(stderr, "appliance bench: -n %d: %s holds only %d devices\n", c.n, c.credentials, len(devs))
			return 2
		}
		devs = devs[:c.n]
	}
	if c.shard == "" && c.procs > 1 {
		return runProcs(ctx, c, args, len(devs), stdout, stderr)
	}
	if c.shard != "" {
		i, k, _ := parseShard(c.shard)
		devs = devs[i*len(devs)/k : (i+1)*len(devs)/k]
		c.ConnectRate /= float64(k)
	}
	c.Devices = devs
	if soft, err := raiseFileLimit(); err == nil && soft < uint64(len(devs))+64 {
		fmt.Fprintf(stderr, "appliance bench: warning: this process may open %d files, too few for %d devices; use -procs\n", soft, len(devs))
	}

	var out *json.Encoder
	switch {
	case c.shard != "":
		// A child of -procs: its progress and its summary as JSON lines.
		out = json.NewEncoder(stdout)
		var mu sync.Mutex
		c.Progress = func(p fleet.Progress) {
			mu.Lock()
			defer mu.Unlock()
			_ = out.Encode(childLine{Progress: &p})
		}
	case isTerminal(stdout):
		c.Progress = func(p fleet.Progress) { fmt.Fprint(stdout, "\r"+progressLine(p)) }
	}
	sum, err := fleet.Run(ctx, c.Options)
	if err != nil {
		fmt.Fprintln(stderr, "appliance bench:", err)
		return 1
	}
	if c.Progress != nil && c.shard == "" {
		fmt.Fprintln(stdout)
	}
	switch {
	case c.shard != "":
		_ = out.Encode(childLine{Summary: sum})
		return 0 // the parent judges the merged summary
	case c.jsonOut:
		b, _ := json.MarshalIndent(sum, "", "  ")
		fmt.Fprintln(stdout, string(b))
	default:
		printSummary(stdout, sum)
	}
	return verdict(sum, stderr)
}

// verdict is the exit status a summary earns.
func verdict(s *fleet.Summary, stderr io.Writer) int {
	e := s.Requests.Exactly
	if e.Missing+e.Duplicate+e.Stray > 0 {
		fmt.Fprintf(stderr, "appliance bench: replies not exactly once: %d missing, %d duplicate, %d stray\n", e.Missing, e.Duplicate, e.Stray)
		return 1
	}
	if s.Connect.Connected == 0 {
		fmt.Fprintln(stderr, "appliance bench: no device connected")
		return 1
	}
	return 0
}

// childLine is one line a -procs child writes.
type childLine struct {
	Progress *fleet.Progress `json:"progress,omitempty"`
	Summary  *fleet.Summary  `json:"summary,omitempty"`
}

func progressLine(p fleet.Progress) string {
	return fmt.Sprintf("%5.0fs  connected %d/%d  %.0f rt/s  p99 %.1f ms  errors %d   ",
		p.Elapsed.Seconds(), p.Connected, p.Devices, p.RoundTrips, float64(p.P99.Microseconds())/1000, p.Errors)
}

// runProcs runs the bench in k child processes, each with its shard of
// the devices, shows their summed progress and merges their summaries.
func runProcs(ctx context.Context, c benchConfig, args []string, devices int, stdout, stderr io.Writer) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "appliance bench: -procs: find this program:", err)
		return 1
	}
	k := c.procs
	// The children write to stderr at once: exec copies each one's from a
	// goroutine of its own unless stderr is a file.
	stderr = &lockedWriter{w: stderr}
	var (
		mu       sync.Mutex
		progress = make([]fleet.Progress, k)
		sums     = make([]*fleet.Summary, k)
		wg       sync.WaitGroup
		failed   []string
	)
	tty := isTerminal(stdout)
	for i := range k {
		// Later flags override earlier ones: the child gets all of ours.
		cmd := exec.CommandContext(ctx, self, append(append([]string{"bench"}, args...), "-procs", "1", "-shard", fmt.Sprintf("%d/%d", i, k))...)
		cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // a child ends its window and still reports
		cmd.WaitDelay = c.Timeout + 10*time.Second
		cmd.Stderr = stderr
		cmd.Env = append(os.Environ(), benchChildEnv+"=1")
		pipe, err := cmd.StdoutPipe()
		if err != nil {
			fmt.Fprintln(stderr, "appliance bench: -procs:", err)
			return 1
		}
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(stderr, "appliance bench: -procs: start a process:", err)
			return 1
		}
		wg.Go(func() {
			sc := bufio.NewScanner(pipe)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			for sc.Scan() {
				var line childLine
				if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
					continue
				}
				mu.Lock()
				if line.Progress != nil {
					progress[i] = *line.Progress
					if tty {
						fmt.Fprint(stdout, "\r"+progressLine(sumProgress(progress, devices)))
					}
				}
				if line.Summary != nil {
					sums[i] = line.Summary
				}
				mu.Unlock()
			}
			if err := cmd.Wait(); err != nil {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("process %d/%d: %v", i, k, err))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if tty {
		fmt.Fprintln(stdout)
	}
	total := &fleet.Summary{}
	for i, s := range sums {
		if s == nil {
			failed = append(failed, fmt.Sprintf("process %d/%d: no summary", i, k))
			continue
		}
		total.Merge(s)
	}
	if len(failed) > 0 {
		fmt.Fprintln(stderr, "appliance bench: -procs:", strings.Join(failed, "; "))
		return 1
	}
	if c.jsonOut {
		b, _ := json.MarshalIndent(total, "", "  ")
		fmt.Fprintln(stdout, string(b))
	} else {
		printSummary(stdout, total)
	}
	return verdict(total, stderr)
}

func sumProgress(ps []fleet.Progress, devices int) fleet.Progress {
	t := fleet.Progress{Devices: devices}
	for _, p := range ps {
		t.Elapsed = max(t.Elapsed, p.Elapsed)
		t.Connected += p.Connected
		t.RoundTrips += p.RoundTrips
		t.P99 = max(t.P99, p.P99) // an upper bound: the processes' histograms are not at hand
		t.Errors += p.Errors
	}
	return t
}

// isTerminal says whether w is a terminal, where a progress line that
// rewrites itself can be read.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
