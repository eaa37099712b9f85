package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/recipes"
)

const benchDevicesUsage = `Usage:
  appliance bench-devices -n N [-prefix bench-] [-model CM-300] -o FILE

Writes a catalog file that registers N bench devices (bench-00000, …) and
nothing else. Register them, and get their secrets as the credentials file
of "appliance bench", with one atomic seed (on a stopped server's
-data-dir, or on the Redis of a running cluster with -redis-url):

  appliance bench-devices -n 15000 -o fleet.json
  recipesd seed -secrets-out fleet.csv fleet.json
  appliance bench -credentials fleet.csv …

A seed registers every device in one write, hashing secrets on the
server's side, without a running server or an API token; seeding the file
again registers nothing new (and issues no secret).

Flags:
`

// benchDevicesCommand runs "appliance bench-devices".
func benchDevicesCommand(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("appliance bench-devices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchDevicesUsage); fs.PrintDefaults() }
	n := fs.Int("n", 0, "number of devices (required)")
	prefix := fs.String("prefix", "bench-", "device IDs are the prefix and a number")
	model := fs.String("model", "CM-300", "appliance model of every device ("+strings.Join(recipes.Models, ", ")+")")
	out := fs.String("o", "", "`FILE` to write (never overwritten); - for stdout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if *n < 1 || *n > 10_000_000 {
		errs = append(errs, fmt.Errorf("-n %d: must be between 1 and 10000000", *n))
	}
	if !slices.Contains(recipes.Models, *model) {
		errs = append(errs, fmt.Errorf("-model %q: not a known appliance model (%s)", *model, strings.Join(recipes.Models, ", ")))
	}
	width := len(fmt.Sprint(max(*n-1, 0)))
	if id := *prefix + strings.Repeat("0", width); !recipes.ValidDeviceID(id) {
		errs = append(errs, fmt.Errorf("-prefix %q: makes device IDs like %q, which are not valid device IDs", *prefix, id))
	}
	if *out == "" {
		errs = append(errs, errors.New("-o: required (a file, or - for stdout)"))
	}
	if len(errs) > 0 {
		fmt.Fprintln(stderr, "appliance bench-devices:", errors.Join(errs...))
		return 2
	}
	w, closeOut := stdout, func() error { return nil }
	if *out != "-" {
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			fmt.Fprintln(stderr, "appliance bench-devices:", err)
			return 1
		}
		w, closeOut = f, f.Close
	}
	bw := bufio.NewWriter(w)
	type device struct {
		ID    string `json:"id"`
		Model string `json:"model"`
	}
	fmt.Fprintln(bw, `{"devices": [`)
	for i := range *n {
		b, _ := json.Marshal(device{ID: fmt.Sprintf("%s%0*d", *prefix, width, i), Model: *model})
		sep := ","
		if i == *n-1 {
			sep = ""
		}
		fmt.Fprintf(bw, "  %s%s\n", b, sep)
	}
	fmt.Fprintln(bw, "]}")
	err := bw.Flush()
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(stderr, "appliance bench-devices: write:", err)
		if *out != "-" {
			_ = os.Remove(*out) // nothing half-written
		}
		return 1
	}
	return 0
}
