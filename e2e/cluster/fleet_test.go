// Package cluster_test runs recipesd as an operator would, as separate
// processes on a real Redis Cluster or Sentinel, behind HAProxy, and
// checks the cluster's promises end to end: commands from any node,
// one session per device, a node killed or drained under load.
//
// Every test is skipped unless the environment names what it needs, so
// "go test ./..." skips them; .ci/run sets:
//
//	RECIPESD_E2E_BIN             the recipesd binary
//	RECIPESD_E2E_REDIS_CLUSTER   redis+cluster://... of a running Redis Cluster
//	RECIPESD_E2E_REDIS_SENTINEL  redis://...?master_name=... of a running Sentinel set
//	RECIPESD_E2E_HAPROXY         the haproxy binary (default: haproxy on PATH)
//	RECIPESD_E2E_PIDFILE         optional: every process started is listed
//	                             there, so the caller can kill what a test
//	                             killed by its timeout left behind
//
// The tests own the recipesd and HAProxy processes (they kill and restart
// them); Redis is the caller's. Each test uses a key prefix of its own.
package cluster_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Liveness settings of every node: small, so that a dead node's devices
// are offline within seconds (heartbeat × 3 at least).
const (
	heartbeat = time.Second
	deadAfter = 3 * time.Second
)

func envOrSkip(t *testing.T, names ...string) []string {
	t.Helper()
	var vals []string
	for _, n := range names {
		v := os.Getenv(n)
		if v == "" {
			t.Skipf("end-to-end cluster test: set %s (and the others .ci/run sets) to run it", strings.Join(names, ", "))
		}
		vals = append(vals, v)
	}
	return vals
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freeAddr returns a loopback address nothing listens on at the moment,
// below the kernel's ephemeral port range: a node restarted on its old
// port must not find it taken by some outgoing connection. A process
// started on it may still find it taken; node.start retries.
func freeAddr(t *testing.T) string {
	t.Helper()
	ephemeral := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
				ephemeral = n
			}
		}
	}
	for range 100 {
		var b [2]byte
		_, _ = rand.Read(b[:])
		n := int(b[0])<<8 | int(b[1])
		addr := fmt.Sprintf("127.0.0.1:%d", 10000+n%(ephemeral-10000))
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
			return addr
		}
	}
	t.Fatal("no free loopback port found in 100 tries")
	return ""
}

// recordPID appends pid to RECIPESD_E2E_PIDFILE, if set.
func recordPID(pid int) {
	path := os.Getenv("RECIPESD_E2E_PIDFILE")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(f, pid)
	_ = f.Close()
}

// proc is a child process whose output goes to a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when it has exited
	err     error         // its exit status, once done
}

func startProc(t *testing.T, name, logPath string, env []string, bin string, args ...string) *proc {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	// Should the test binary die (a -timeout panic), its children die
	// with it instead of holding ports and Redis keys.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	recordPID(cmd.Process.Pid)
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill ends p with SIGKILL and waits for it.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// stop sends SIGTERM and waits up to wait for p to exit; it returns the
// exit status, or an error if p did not exit in time (it is then killed).
func (p *proc) stop(wait time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(wait):
		p.kill()
		return fmt.Errorf("%s did not exit within %v of SIGTERM", p.name, wait)
	}
}

// tail returns the last n lines of p's log.
func (p *proc) tail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// node is one recipesd serve process; it keeps its ID and addresses
// across restarts.
type node struct {
	f          *fleet
	id         string
	mqtt, http string
	p          *proc
}

// fleet is recipesd nodes sharing one Redis under a key prefix of their
// own, optionally behind HAProxy, with an API token and registered devices.
type fleet struct {
	t        *testing.T
	bin      string
	redisURL string
	prefix   string
	dir      string
	nodes    []*node
	lb       *proc
	lbMQTT   string // HAProxy's MQTT address, if started
	lbHTTP   string
	token    string
	http     *http.Client

	mu      sync.Mutex
	secrets map[string]string
	procs   []*proc // every process started, for the failure report
}

// startFleet starts n nodes on redisURL (one after the other: the first
// loads the demo catalog into the empty prefix) and makes an API token.
func startFleet(t *testing.T, bin, redisURL string, n int) *fleet {
	t.Helper()
	f := &fleet{
		t: t, bin: bin, redisURL: redisURL,
		prefix:  "e2e-" + randomHex(4),
		dir:     t.TempDir(),
		secrets: map[string]string{},
		http:    &http.Client{Timeout: 40 * time.Second},
	}
	t.Cleanup(f.close)
	for i := 1; i <= n; i++ {
		nd := &node{f: f, id: fmt.Sprintf("node%d", i)}
		f.nodes = append(f.nodes, nd)
		nd.start(t)
	}
	f.token = strings.TrimSpace(f.cli(t, "token", "add", "e2e", "-scopes", "catalog,devices,commands,metrics"))
	return f
}

// close stops everything; on failure it shows the end of every log.
func (f *fleet) close() {
	for _, nd := range f.nodes {
		if nd.p != nil && !nd.p.exited() {
			nd.p.kill()
		}
	}
	if f.lb != nil && !f.lb.exited() {
		f.lb.kill()
	}
	f.http.CloseIdleConnections()
	// A node built with -race reports races on its stderr and goes on.
	f.mu.Lock()
	for _, p := range f.procs {
		if b, _ := os.ReadFile(p.logPath); bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			f.t.Errorf("%s: the race detector reported a data race (%s)", p.name, p.logPath)
		}
	}
	f.mu.Unlock()
	if f.t.Failed() {
		f.mu.Lock()
		defer f.mu.Unlock()
		seen := map[string]bool{}
		for _, p := range f.procs {
			if seen[p.logPath] { // a restarted node appends to its log
				continue
			}
			seen[p.logPath] = true
			f.t.Logf("---- %s (%s) log tail:\n%s", p.name, p.logPath, p.tail(25))
		}
	}
}

func (f *fleet) track(p *proc) {
	f.mu.Lock()
	f.procs = append(f.procs, p)
	f.mu.Unlock()
}

// cli runs a recipesd subcommand against the fleet's store and returns
// its standard output.
func (f *fleet) cli(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args, "-redis-url", f.redisURL, "-key-prefix", f.prefix)
	cmd := exec.Command(f.bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("recipesd %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// register registers devices in one seed (model CM-300X) and remembers
// their secrets.
func (f *fleet) register(t *testing.T, ids ...string) {
	t.Helper()
	type dev struct {
		ID    string `json:"id"`
		Model string `json:"model"`
	}
	var file struct {
		Devices []dev `json:"devices"`
	}
	for _, id := range ids {
		file.Devices = append(file.Devices, dev{ID: id, Model: "CM-300X"})
	}
	b, _ := json.Marshal(file)
	name := "devices-" + randomHex(4)
	in := filepath.Join(f.dir, name+".json")
	out := filepath.Join(f.dir, name+".csv")
	if err := os.WriteFile(in, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f.cli(t, "seed", "-progress", "off", "-secrets-out", out, in)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("secrets %s: %v", out, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rows {
		if len(r) == 2 && r[0] != "id" {
			f.secrets[r[0]] = r[1]
		}
	}
	for _, id := range ids {
		if f.secrets[id] == "" {
			t.Fatalf("no secret issued for %s in %s", id, raw)
		}
	}
}

func (f *fleet) secret(id string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets[id]
}

// args are the serve flags of nd.
func (nd *node) args() []string {
	return []string{"serve",
		"-redis-url", nd.f.redisURL, "-key-prefix", nd.f.prefix,
		"-node-id", nd.id, "-mqtt-addr", nd.mqtt, "-http-addr", nd.http, "-advertise-mqtt", nd.mqtt,
		"-node-heartbeat", heartbeat.String(), "-node-dead-after", deadAfter.String(),
		// Every device of these tests comes from loopback, many through
		// one HAProxy: the per-source limits would be about the test.
		"-mqtt-exempt-loopback", "-log-level", "info",
		// Where a first start writes its secrets file.
		"-data-dir", filepath.Join(nd.f.dir, nd.id+"-data"),
	}
}

// start starts nd (on new addresses the first time, on the same ones
// after) and waits for its /readyz to answer 200.
func (nd *node) start(t *testing.T) {
	t.Helper()
	first := nd.mqtt == ""
	for attempt := 1; ; attempt++ {
		if first {
			nd.mqtt, nd.http = freeAddr(t), freeAddr(t)
		}
		nd.p = startProc(t, nd.id, filepath.Join(nd.f.dir, nd.id+".log"), nil, nd.f.bin, nd.args()...)
		nd.f.track(nd.p)
		err := nd.waitReady(30 * time.Second)
		if err == nil {
			return
		}
		if !nd.p.exited() {
			nd.p.kill()
		}
		// A port free a moment ago may have been taken: try others.
		if !first || attempt == 3 {
			t.Fatalf("%s: %v\n%s", nd.id, err, nd.p.tail(20))
		}
	}
}

// waitReady polls /readyz until it answers 200.
func (nd *node) waitReady(wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for {
		if nd.p.exited() {
			return fmt.Errorf("exited before it was ready: %v", nd.p.err)
		}
		if code, _ := nd.f.get(nd.http, "/readyz", nil); code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz not 200 within %v", wait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startLB starts HAProxy with deploy/haproxy.cfg in front of the first
// three nodes and waits until both of its ports pass a request through.
func (f *fleet) startLB(t *testing.T) {
	t.Helper()
	if len(f.nodes) != 3 {
		t.Fatalf("deploy/haproxy.cfg names 3 nodes; the fleet has %d", len(f.nodes))
	}
	bin := os.Getenv("RECIPESD_E2E_HAPROXY")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("haproxy"); err != nil {
			t.Skip("haproxy not found: set RECIPESD_E2E_HAPROXY or put it on PATH")
		}
	}
	cfg, err := filepath.Abs(filepath.Join("..", "..", "deploy", "haproxy.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		f.lbMQTT, f.lbHTTP = freeAddr(t), freeAddr(t)
		env := []string{"RECIPESD_LB_MQTT=" + f.lbMQTT, "RECIPESD_LB_HTTP=" + f.lbHTTP}
		for i, nd := range f.nodes {
			env = append(env,
				fmt.Sprintf("RECIPESD_NODE%d_MQTT=%s", i+1, nd.mqtt),
				fmt.Sprintf("RECIPESD_NODE%d_HTTP=%s", i+1, nd.http))
		}
		f.lb = startProc(t, "haproxy", filepath.Join(f.dir, "haproxy.log"), env, bin, "-db", "-f", cfg)
		f.track(f.lb)
		ready := false
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !f.lb.exited(); time.Sleep(50 * time.Millisecond) {
			if code, _ := f.get(f.lbHTTP, "/readyz", nil); code == http.StatusOK {
				ready = true
				break
			}
		}
		if ready {
			return
		}
		if !f.lb.exited() {
			f.lb.kill()
		}
		if attempt == 3 {
			t.Fatalf("haproxy did not pass /readyz through:\n%s", f.lb.tail(20))
		}
	}
}

// get does GET addr+path with the fleet's token and decodes a JSON body
// into v (if not nil). It returns the status, or 0 and the error.
func (f *fleet) get(addr, path string, v any) (int, error) {
	return f.do(http.MethodGet, addr, path, nil, v)
}

func (f *fleet) do(method, addr, path string, body, v any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if f.token != "" {
		req.Header.Set("Authorization", "Bearer "+f.token)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %d %q: %w", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// presence is GET /api/devices/<id> as far as presence goes.
type presence struct {
	Connected      bool   `json:"connected"`
	Node           string `json:"node"`
	ConnectedSince string `json:"connected_since"`
}

func (p presence) String() string {
	if !p.Connected {
		return "offline"
	}
	return fmt.Sprintf("connected on %q since %q", p.Node, p.ConnectedSince)
}

// presenceOn asks nd where device id is.
func (f *fleet) presenceOn(nd *node, id string) (presence, error) {
	var p presence
	code, err := f.get(nd.http, "/api/devices/"+id, &p)
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET /api/devices/%s on %s: HTTP %d", id, nd.id, code)
	}
	return p, err
}

// presenceAgrees waits up to wait until every running node reports
// device id as want says; it returns what each said last otherwise.
func (f *fleet) presenceAgrees(id string, wait time.Duration, want func(presence) bool) error {
	return f.presenceAllAgree([]string{id}, wait, want)
}

// presenceAllAgree is [fleet.presenceAgrees] for several devices at
// once, under one deadline; the error names every device still wrong.
func (f *fleet) presenceAllAgree(ids []string, wait time.Duration, want func(presence) bool) error {
	deadline := time.Now().Add(wait)
	pending := ids
	for {
		var bad, still []string
		for _, id := range pending {
			var wrong []string
			for _, nd := range f.nodes {
				if nd.p.exited() {
					continue
				}
				p, err := f.presenceOn(nd, id)
				switch {
				case err != nil:
					wrong = append(wrong, fmt.Sprintf("%s: %v", nd.id, err))
				case !want(p):
					wrong = append(wrong, fmt.Sprintf("%s: %v", nd.id, p))
				}
			}
			if len(wrong) > 0 {
				still = append(still, id)
				bad = append(bad, id+" on "+strings.Join(wrong, ", "))
			}
		}
		if len(bad) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if len(bad) > 5 {
				bad = append(bad[:5], fmt.Sprintf("and %d more devices", len(bad)-5))
			}
			return errors.New(strings.Join(bad, "; "))
		}
		pending = still
		time.Sleep(100 * time.Millisecond)
	}
}

// connectedOn is a presence check: connected on node nodeID, with a
// connected_since in RFC 3339.
func connectedOn(nodeID string) func(presence) bool {
	return func(p presence) bool {
		_, err := time.Parse(time.RFC3339, p.ConnectedSince)
		return p.Connected && p.Node == nodeID && err == nil
	}
}

func offline(p presence) bool { return !p.Connected }
