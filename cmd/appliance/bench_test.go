package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/internal/fleet"
	"github.com/recipesd/recipesd/internal/fleet/fleettest"
	"github.com/recipesd/recipesd/seed"
)

// TestMain runs the program instead of the tests in the processes that
// "appliance bench -procs" starts: they are this test binary.
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func writeCredentials(t *testing.T, devs []fleet.Device) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,secret\n")
	for _, d := range devs {
		b.WriteString(d.ID + "," + d.Secret + "\n")
	}
	path := filepath.Join(t.TempDir(), "fleet.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBench runs "appliance bench -procs 2 -json" against the real
// server: two processes, each with half of the devices, whose summaries
// merge into one in which every request was answered once, with the
// status its kind must get.
func TestBench(t *testing.T) {
	srv := fleettest.StartServer(t, 200)
	addr := srv.Addr
	creds := writeCredentials(t, srv.Devices)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"bench", "-addr", addr, "-credentials", creds, "-json", "-procs", "2",
		"-source", "127.0.0.1,127.0.0.2", "-connect-rate", "200", "-active", "0.2", "-rate", "5", "-warmup", "300ms", "-duration", "1500ms",
		"-mix", "categories=1,list=1,get=2,search=1,conditional=2,notfound=1"}, noEnv, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	var sum fleet.Summary
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("-json output: %v\n%s", err, out.String())
	}
	if sum.Processes != 2 || sum.Devices != 200 || sum.Active != 40 || sum.Connect.Connected != 200 {
		t.Errorf("%d processes, %d devices, %d active, %d connected; want 2, 200, 40, 200", sum.Processes, sum.Devices, sum.Active, sum.Connect.Connected)
	}
	if diff := cmp.Diff(fleet.ExactlyOnce{}, sum.Requests.Exactly); diff != "" {
		t.Errorf("exactly-once (-want +got):\n%s", diff)
	}
	r := sum.Requests
	if r.Sent == 0 || r.Answered != r.Sent {
		t.Errorf("sent %d, answered %d", r.Sent, r.Answered)
	}
	for st := range r.Statuses {
		if !slices.Contains([]string{"200", "304", "404"}, st) {
			t.Errorf("status %s: %d replies", st, r.Statuses[st])
		}
	}
	if nf := r.Kinds[fleet.KindNotFound]; nf.Sent == 0 || nf.Statuses["404"] != nf.Sent || r.Statuses["404"] != nf.Sent {
		t.Errorf("notfound %+v, 404s %d", nf, r.Statuses["404"])
	}
	if got := r.Histogram.Count(); got != r.Answered {
		t.Errorf("the merged histogram holds %d replies, %d were answered", got, r.Answered)
	}
	if sum.Generator.BytesPerDevice == 0 {
		t.Errorf("generator %+v: no memory per device", sum.Generator)
	}
}

func TestBench_Flags(t *testing.T) {
	creds := writeCredentials(t, []fleet.Device{{ID: "oven-1", Secret: "s"}})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ErrNoCredentials", nil, `-credentials: required`},
		{"ErrValues", []string{"-credentials", creds, "-active", "1.5", "-qos", "2", "-procs", "0", "-keepalive", "1500ms", "-mix", "get=1,soup=2"},
			"-active 1.5: must be between 0 and 1\n-qos 2: must be 0 or 1\n-keepalive 1.5s: whole seconds, 0 to 65535s\n-procs 0: must be between 1 and 64\n" +
				`-mix: mix "get=1,soup=2": entry 2: unknown kind "soup"`},
		{"ErrTooFew", []string{"-credentials", creds, "-n", "5"}, "-n 5: " + creds + " holds only 1 devices"},
		{"ErrCredentials", []string{"-credentials", filepath.Join(t.TempDir(), "none.csv")}, "credentials: open"},
		{"ErrArgument", []string{"-credentials", creds, "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"bench"}, tt.args...), noEnv, &out, &errOut)
			if code != 2 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("exit %d, said %q; want 2 and %q", code, errOut.String(), tt.want)
			}
		})
	}
}

func TestBench_Verdict(t *testing.T) {
	tests := []struct {
		name string
		sum  fleet.Summary
		want int
	}{
		{"OK", fleet.Summary{Connect: fleet.ConnectSummary{Connected: 1}, Requests: fleet.RequestSummary{Exactly: fleet.ExactlyOnce{Late: 3}}}, 0},
		{"ErrMissing", fleet.Summary{Connect: fleet.ConnectSummary{Connected: 1}, Requests: fleet.RequestSummary{Exactly: fleet.ExactlyOnce{Missing: 1}}}, 1},
		{"ErrDuplicate", fleet.Summary{Connect: fleet.ConnectSummary{Connected: 1}, Requests: fleet.RequestSummary{Exactly: fleet.ExactlyOnce{Duplicate: 1}}}, 1},
		{"ErrStray", fleet.Summary{Connect: fleet.ConnectSummary{Connected: 1}, Requests: fleet.RequestSummary{Exactly: fleet.ExactlyOnce{Stray: 1}}}, 1},
		{"ErrNoneConnected", fleet.Summary{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verdict(&tt.sum, &bytes.Buffer{}); got != tt.want {
				t.Errorf("exit %d, want %d", got, tt.want)
			}
		})
	}
}

// TestBenchDevices: the file it writes is a catalog file that registers
// exactly the N devices, and it never writes over a file.
func TestBenchDevices(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.json")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"bench-devices", "-n", "120", "-model", "CM-100", "-o", path}, noEnv, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := seed.Parse("fleet.json", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Devices) != 120 || c.Devices[0].ID != "bench-000" || c.Devices[119].ID != "bench-119" || c.Devices[7].Model != "CM-100" || len(c.Recipes) > 0 {
		t.Errorf("%d devices (%+v … %+v), %d recipes", len(c.Devices), c.Devices[0], c.Devices[len(c.Devices)-1], len(c.Recipes))
	}

	errOut.Reset()
	if code := run(context.Background(), []string{"bench-devices", "-n", "3", "-o", path}, noEnv, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "file exists") {
		t.Errorf("over an existing file: exit %d, %q", code, errOut.String())
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, data) {
		t.Error("the existing file was written over")
	}
	errOut.Reset()
	code := run(context.Background(), []string{"bench-devices", "-n", "0", "-prefix", "bad id ", "-model", "CM-9"}, noEnv, &out, &errOut)
	for _, want := range []string{"-n 0: must be between 1 and 10000000", `-model "CM-9": not a known appliance model`, `-prefix "bad id ": makes device IDs like "bad id 0"`, "-o: required"} {
		if code != 2 || !strings.Contains(errOut.String(), want) {
			t.Errorf("exit %d, said %q; want 2 and %q", code, errOut.String(), want)
		}
	}
}
