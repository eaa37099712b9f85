package responder_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/responder"
)

// The noisy-neighbour measurement: a quiet device asks at 80% of its rate
// while, in alternate windows, another device sends ten times its rate from
// a process of its own (TestNoisyDeviceHelper), so that the noisy client's
// work does not compete with the server inside one Go runtime. The windows
// run in ABBA order and the samples are pooled per condition, so that drift
// over the run (the machine is shared) falls on both conditions alike.

const (
	noisyRate   = 100                    // each device's allowed requests per second
	noisySettle = 150 * time.Millisecond // the noisy device spends its burst, the other is quiet
)

// noisyResult is what [noisyNeighbour] measured.
type noisyResult struct {
	alone, beside []time.Duration // the quiet device's latencies, sorted

	// The noisy device's requests, 429s and other replies, and how long it
	// sent them for.
	sent, throttled, answered int64
	flooding                  time.Duration

	// Shares of one core: the noisy process's while it sends, and this
	// process's (server and quiet device) while sampling alone and beside.
	noisyCPU  float64
	serverCPU [2]float64
}

// noisyNeighbour runs rounds of one quiet-alone window and one noisy-on
// window, perWindow samples each, alternating which comes first.
func noisyNeighbour(tb testing.TB, rounds, perWindow int) noisyResult {
	tb.Helper()
	// AbuseStrikes -1: the noisy device is never disconnected, only throttled.
	s := mustServe(tb, func(o *responder.Options) { o.RequestRate, o.RequestBurst, o.AbuseStrikes = noisyRate, noisyRate, -1 })
	quiet := s.MustDial(tb, appliance.Options{})
	noisy := startNoisyDevice(tb, s, 10*noisyRate)
	ctx := testContext(tb, 10*time.Minute)

	var (
		res                 noisyResult
		noisyCPU            time.Duration
		serverCPU, sampling [2]time.Duration // alone, beside
	)
	window := func(on bool) []time.Duration {
		c := 0
		if on {
			c = 1
			noisy.on(tb)
		}
		time.Sleep(noisySettle)
		out := make([]time.Duration, 0, perWindow)
		cpu, start := procCPU("self"), time.Now()
		tick := time.NewTicker(time.Second / (noisyRate * 8 / 10)) // within its own rate
		for range perWindow {
			<-tick.C
			t := time.Now()
			r, err := quiet.Ask(ctx, appliance.Request{Topic: "recipes/categories"})
			if err != nil || r.Status != 200 {
				tb.Fatalf("quiet device (noisy one on: %v): %v %v", on, r, err)
			}
			out = append(out, time.Since(t))
		}
		tick.Stop()
		serverCPU[c] += procCPU("self") - cpu
		sampling[c] += time.Since(start)
		if on {
			n := noisy.off(tb)
			res.sent += n.sent
			res.throttled += n.throttled
			res.answered += n.answered
			res.flooding += n.wall
			noisyCPU += n.cpu
		}
		return out
	}

	window(false) // warm up both paths; not counted
	window(true)
	res, noisyCPU, serverCPU, sampling = noisyResult{}, 0, [2]time.Duration{}, [2]time.Duration{}
	for i := range rounds {
		// A B, B A, A B, …: each condition is as often first as second.
		first := i%2 == 1
		for _, on := range []bool{first, !first} {
			if on {
				res.beside = append(res.beside, window(on)...)
			} else {
				res.alone = append(res.alone, window(on)...)
			}
		}
	}
	slices.Sort(res.alone)
	slices.Sort(res.beside)
	res.noisyCPU = cpuShare(noisyCPU, res.flooding)
	res.serverCPU = [2]float64{cpuShare(serverCPU[0], sampling[0]), cpuShare(serverCPU[1], sampling[1])}
	return res
}

func cpuShare(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// TestNoisyDeviceIsThrottledAlone: a device far over its rate gets 429s
// while another device, within its rate, is never refused and its median
// latency stays where it was. Timing on a shared 2-core machine (with
// -race) is noisy, so the bound is generous; BenchmarkNoisyNeighbour
// measures the p99s.
func TestNoisyDeviceIsThrottledAlone(t *testing.T) {
	rounds, perWindow := 4, 20
	if testing.Short() {
		rounds, perWindow = 2, 15
	}
	res := noisyNeighbour(t, rounds, perWindow)
	alone, beside := quantile(res.alone, .5), quantile(res.beside, .5)
	t.Logf("quiet device alone: p50 %v p90 %v; beside the noisy one: p50 %v p90 %v; noisy sent %d, got %d 429s and %d other replies",
		alone, quantile(res.alone, .9), beside, quantile(res.beside, .9), res.sent, res.throttled, res.answered)
	if res.throttled == 0 {
		t.Fatal("the noisy device was never throttled")
	}
	if beside > 2*alone+2*time.Millisecond {
		t.Fatalf("median latency %v beside the noisy device, %v alone", beside, alone)
	}
}

// BenchmarkNoisyNeighbour reports a quiet device's p50 and p99 alone and
// beside a device sending ten times its rate, over 20 rounds of interleaved
// windows (1,000 samples per condition), and the p99 ratio (the issue asks
// for at most 1.2). It also reports the noisy device's 429s per second, and
// the CPU (% of one core) of the noisy process while it sends and of the
// server's process (with the quiet device) alone and beside it.
//
//	go test -run '^$' -bench NoisyNeighbour -benchtime 1x -count 5 ./responder
func BenchmarkNoisyNeighbour(b *testing.B) {
	var res noisyResult
	for b.Loop() {
		res = noisyNeighbour(b, 20, 50)
	}
	if res.throttled == 0 {
		b.Fatal("the noisy device was never throttled")
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(quantile(res.alone, .5).Microseconds()), "alone-p50-µs")
	b.ReportMetric(float64(quantile(res.alone, .99).Microseconds()), "alone-p99-µs")
	b.ReportMetric(float64(quantile(res.beside, .5).Microseconds()), "noisy-p50-µs")
	b.ReportMetric(float64(quantile(res.beside, .99).Microseconds()), "noisy-p99-µs")
	b.ReportMetric(float64(quantile(res.beside, .99))/float64(quantile(res.alone, .99)), "p99-ratio")
	b.ReportMetric(float64(res.throttled)/res.flooding.Seconds(), "429/s")
	b.ReportMetric(100*res.noisyCPU, "noisy-cpu-%")
	b.ReportMetric(100*res.serverCPU[0], "server-alone-cpu-%")
	b.ReportMetric(100*res.serverCPU[1], "server-noisy-cpu-%")
}

// noisyDevice is a [TestNoisyDeviceHelper] process.
type noisyDevice struct {
	pid int
	in  io.Writer
	out *bufio.Scanner
	cpu time.Duration // its CPU time when it was last switched on
}

// noisyCounts is what the noisy device did while it was on.
type noisyCounts struct {
	sent, throttled, answered int64
	wall, cpu                 time.Duration
}

// startNoisyDevice registers a device and starts a process that connects as
// it and sends rate requests per second while it is switched on.
func startNoisyDevice(tb testing.TB, s *testServer, rate int) *noisyDevice {
	tb.Helper()
	id := fmt.Sprintf("noisy-%d", deviceSeq.Add(1))
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoisyDeviceHelper$", "-test.timeout=20m")
	cmd.Env = append(os.Environ(), "RECIPESD_NOISY_HELPER="+strings.Join([]string{
		s.MQTTAddr, id, s.MustRegister(tb, id, testModel), strconv.Itoa(rate)}, " "))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = in.Close(); _ = cmd.Wait() })
	d := &noisyDevice{pid: cmd.Process.Pid, in: in, out: bufio.NewScanner(out)}
	d.expect(tb, "ready")
	return d
}

func (d *noisyDevice) expect(tb testing.TB, word string) string {
	tb.Helper()
	if !d.out.Scan() {
		tb.Fatalf("noisy device exited before saying %q: %v", word, d.out.Err())
	}
	rest, ok := strings.CutPrefix(d.out.Text(), word)
	if !ok {
		tb.Fatalf("noisy device said %q, want %q", d.out.Text(), word)
	}
	return rest
}

// on starts the flood and returns once it has begun.
func (d *noisyDevice) on(tb testing.TB) {
	tb.Helper()
	d.cpu = procCPU(strconv.Itoa(d.pid))
	fmt.Fprintln(d.in, "on")
	d.expect(tb, "on")
}

// off stops the flood and returns once every reply has arrived.
func (d *noisyDevice) off(tb testing.TB) noisyCounts {
	tb.Helper()
	fmt.Fprintln(d.in, "off")
	var n noisyCounts
	if _, err := fmt.Sscan(d.expect(tb, "off"), &n.sent, &n.throttled, &n.answered, &n.wall); err != nil {
		tb.Fatalf("noisy device: %v", err)
	}
	n.cpu = procCPU(strconv.Itoa(d.pid)) - d.cpu
	return n
}

// procCPU returns the user and system CPU time of process pid ("self" for
// this one) from /proc, or 0 where there is none.
func procCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	_, after, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(after) // from field 3, state
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// TestNoisyDeviceHelper is the noisy device of noisyNeighbour: it connects,
// says "ready", and then obeys lines on its standard input. "on" starts
// sending QoS 0 requests at the given rate (as a token bucket, catching up
// after a stall); "off" stops, waits for the replies, and reports what it
// sent and received.
func TestNoisyDeviceHelper(t *testing.T) {
	args := strings.Fields(os.Getenv("RECIPESD_NOISY_HELPER"))
	if len(args) != 4 {
		t.Skip("the noisy device process of the noisy-neighbour test")
	}
	rate, err := strconv.Atoi(args[3])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	dev, err := appliance.Dial(ctx, appliance.Options{Addr: args[0], ID: args[1], Password: args[2]})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dev.Close() }()
	fmt.Println("ready")

	var stop chan struct{}
	var done chan noisyCounts
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "on":
			stop, done = make(chan struct{}), make(chan noisyCounts)
			go func() { done <- flood(dev, float64(rate), stop) }()
			fmt.Println("on")
		case "off":
			close(stop)
			n := <-done
			fmt.Println("off", n.sent, n.throttled, n.answered, int64(n.wall))
		}
	}
}

// flood sends rate requests per second until stop is closed, then waits
// for their replies.
func flood(dev *appliance.Client, rate float64, stop <-chan struct{}) noisyCounts {
	var n noisyCounts
	var throttled, answered atomic.Int64
	var wg sync.WaitGroup
	qos := byte(0)
	ctx := context.Background()
	start := time.Now()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			n.wall = time.Since(start)
			wg.Wait()
			n.throttled, n.answered = throttled.Load(), answered.Load()
			return n
		case <-tick.C:
		}
		for due := int64(time.Since(start).Seconds() * rate); n.sent < due; n.sent++ {
			ch, _, err := dev.Send(ctx, appliance.Request{Topic: "recipes/categories", QoS: &qos})
			if err != nil {
				continue
			}
			wg.Go(func() {
				select {
				case r := <-ch:
					if r.Status == 429 {
						throttled.Add(1)
					} else {
						answered.Add(1)
					}
				case <-time.After(2 * time.Second): // a QoS 0 reply may be dropped
				}
			})
		}
	}
}
