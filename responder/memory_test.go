package responder_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
)

// BenchmarkIdleDeviceMemory measures what an idle, authenticated,
// subscribed device costs the server: it registers N devices (default
// 10,000; RECIPESD_IDLE_DEVICES changes it), has a separate process connect
// them all (so that the clients' memory is not counted), and reports the
// server's growth in resident memory, live heap and goroutine stacks per
// device. It runs once whatever -benchtime says.
//
// Once the server has settled, every device sends one PINGREQ, as it does
// every keep-alive interval. Resident memory counts only the pages a
// goroutine stack has touched, so without it the result would depend on
// how deep connecting happened to go rather than on what an idle device
// costs for as long as it stays connected.
//
// RECIPESD_IDLE_PROFILE=dir writes heap and goroutine profiles of the
// server, before and after, to dir (go tool pprof -base dir/before-heap.pprof
// dir/heap.pprof), with every allocation sampled.
//
//	go test -run '^$' -bench IdleDeviceMemory -benchtime 1x ./responder
func BenchmarkIdleDeviceMemory(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads resident memory from /proc")
	}
	n := 10000
	if v := os.Getenv("RECIPESD_IDLE_DEVICES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	if os.Getenv("RECIPESD_IDLE_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
	s := mustServe(b)
	var list bytes.Buffer
	for i := range n {
		id := fmt.Sprintf("idle-%05d", i)
		fmt.Fprintf(&list, "%s %s\n", id, s.MustRegister(b, id, testModel))
	}
	file := filepath.Join(b.TempDir(), "devices")
	if err := os.WriteFile(file, list.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}

	before := settle()
	profile := os.Getenv("RECIPESD_IDLE_PROFILE")
	if profile != "" {
		writeProfiles(b, profile, "before-")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleDevicesHelper$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "RECIPESD_IDLE_HELPER="+file, "RECIPESD_IDLE_ADDR="+s.MQTTAddr)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	out := bufio.NewScanner(stdout)
	start := time.Now()
	if err := waitFor(out, "connected"); err != nil {
		b.Fatalf("helper: %v", err)
	}
	took := time.Since(start)
	if got := s.Responder.Stats().Connected; got != n {
		b.Fatalf("%d devices connected, want %d", got, n)
	}
	settle()
	if _, err := io.WriteString(stdin, "ping\n"); err != nil {
		b.Fatal(err)
	}
	if err := waitFor(out, "pinged"); err != nil {
		b.Fatalf("helper: %v", err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	after := settle()
	if profile != "" {
		writeProfiles(b, profile, "")
	}

	per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per(after.rss, before.rss), "rss-B/device")
	b.ReportMetric(per(after.heap, before.heap), "heap-B/device")
	b.ReportMetric(per(after.stack, before.stack), "stack-B/device")
	b.ReportMetric(float64(after.goroutines-before.goroutines)/float64(n), "goroutines/device")
	b.Logf("%d devices connected in %v; RSS %d -> %d MiB", n, took.Round(time.Millisecond), before.rss>>20, after.rss>>20)
}

// writeProfiles saves the server's heap and goroutine profiles, to see
// where the per-device memory goes.
func writeProfiles(tb testing.TB, dir, prefix string) {
	for _, name := range []string{"heap", "goroutine"} {
		f, err := os.Create(filepath.Join(dir, prefix+name+".pprof"))
		if err != nil {
			tb.Fatal(err)
		}
		if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
			tb.Fatal(err)
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
	}
}

type memSample struct {
	rss, heap, stack uint64
	goroutines       int
}

// settle lets the runtime return what it can and samples memory. A
// goroutine's stack shrinks by half per collection while it uses under a
// quarter of it, so the stacks that grew while connecting (authentication
// goes to Redis on the connection's goroutine) take a few collections to
// reach their idle size, as they would in a server running for a while.
func settle() memSample {
	time.Sleep(time.Second)
	for range 4 {
		runtime.GC()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{rss: residentBytes(), heap: ms.HeapInuse, stack: ms.StackInuse, goroutines: runtime.NumGoroutine()}
}

func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func waitFor(sc *bufio.Scanner, word string) error {
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), word) {
			return nil
		}
	}
	return fmt.Errorf("exited before printing %q: %v", word, sc.Err())
}

// TestIdleDevicesHelper is the client process of BenchmarkIdleDeviceMemory:
// it connects every listed device as firmware would (CONNECT with its
// secret, SUBSCRIBE to its own topics), says so, sends a PINGREQ from
// every device when told to on its standard input, says so, and idles
// until its standard input closes.
func TestIdleDevicesHelper(t *testing.T) {
	file, addr := os.Getenv("RECIPESD_IDLE_HELPER"), os.Getenv("RECIPESD_IDLE_ADDR")
	if file == "" {
		t.Skip("the client process of BenchmarkIdleDeviceMemory")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var conns []*mqtttest.Conn
	for line := range strings.Lines(string(b)) {
		id, secret, _ := strings.Cut(strings.TrimSpace(line), " ")
		c := mqtttest.Dial(t, addr)
		// Keep-alive 600 s: no PINGREQs during the measurement.
		c.Send(t, mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0xc2}, mqtttest.U16(600), mqtttest.Props(), mqtttest.Str(id), mqtttest.Str(id), mqtttest.Str(secret)))
		if h, body := c.MustRead(t); h != 0x20 || body[1] != 0 {
			t.Fatalf("%s: CONNACK % x", id, body)
		}
		c.Send(t, mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/"+id+"/#"), []byte{1}))
		if h, _ := c.MustRead(t); h != 0x90 {
			t.Fatalf("%s: no SUBACK", id)
		}
		_ = c.SetReadDeadline(time.Time{})
		conns = append(conns, c)
	}
	fmt.Printf("connected %d\n", len(conns))
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return
	}
	for _, c := range conns {
		c.Send(t, []byte{0xc0, 0})
		if h, _ := c.MustRead(t); h != 0xd0 {
			t.Fatalf("want PINGRESP, got %02x", h)
		}
		_ = c.SetReadDeadline(time.Time{})
	}
	fmt.Printf("pinged %d\n", len(conns))
	_, _ = io.Copy(io.Discard, in)
}
