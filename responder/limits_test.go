package responder_test

import (
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/responder"
)

// heapInUse returns the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestDeclaredSizeAllocatesNothing: the maximum packet size is enforced on
// the fixed header, before authentication and before the body is read, and
// a packet's buffer grows only with bytes that actually arrive. 200
// strangers declaring a 256 MiB CONNECT, and 200 authenticated devices
// declaring the largest allowed PUBLISH and then stalling, must not cost
// the server 50 MB.
func TestDeclaredSizeAllocatesNothing(t *testing.T) {
	s := mustServe(t)
	bystander := s.MustDial(t, appliance.Options{})
	const n = 200
	devices := make([]*mqtttest.Conn, n)
	for i := range devices {
		devices[i] = s.mustConnectRaw(t, fmt.Sprintf("big-%d", i))
	}
	baseline := goroutines()
	before := heapInUse()

	strangers := make([]*mqtttest.Conn, n)
	for i := range strangers {
		strangers[i] = mqtttest.Dial(t, s.MQTTAddr)
		strangers[i].Send(t, []byte{0x10, 0xff, 0xff, 0xff, 0x7f}) // CONNECT of 268,435,455 bytes
	}
	maxPublish := int(s.Opts.MaxPacketSize) - 4 // remaining length, within the limit
	for _, d := range devices {
		d.Send(t, mqtttest.Cat([]byte{0x30}, mqtttest.VBI(maxPublish), mqtttest.Str("recipes/categories"))) // then nothing
	}
	time.Sleep(200 * time.Millisecond) // let the server read what it was sent
	after := heapInUse()
	growth := int64(after) - int64(before)
	t.Logf("heap in use %d -> %d bytes (%+d)", before, after, growth)
	if growth > 50<<20 {
		t.Fatalf("heap grew %d MB", growth>>20)
	}
	for i, c := range strangers {
		if code, err := c.ClosedAfter(); err != nil || code != 0x95 {
			t.Fatalf("stranger %d: CONNACK 0x%02x, %v; want 0x95 (packet too large)", i, code, err)
		}
	}
	if r, err := bystander.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("bystander: %v %v", r, err)
	}
	for _, d := range devices {
		_ = d.Close()
	}
	goroutinesBack(t, baseline)
}

// TestIdleSocketsAreClosed: a socket that never sends CONNECT is closed
// after the first-packet deadline, and a thousand of them do not keep a
// real device from connecting at once.
func TestIdleSocketsAreClosed(t *testing.T) {
	const timeout = 500 * time.Millisecond
	s := mustServe(t, func(o *responder.Options) { o.FirstPacketTimeout = timeout })
	baseline := goroutines()
	const n = 1000
	idle := make([]net.Conn, n)
	opened := time.Now()
	for i := range idle {
		c, err := net.Dial("tcp", s.MQTTAddr)
		if err != nil {
			t.Fatalf("socket %d: %v", i, err)
		}
		t.Cleanup(func() { _ = c.Close() })
		if i%2 == 1 {
			_, _ = c.Write([]byte{0x10}) // half a fixed header, then silence
		}
		idle[i] = c
	}

	start := time.Now()
	dev := s.MustDial(t, appliance.Options{})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a device took %v to connect beside %d idle sockets", took, n)
	}
	if r, err := dev.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatal(r, err)
	}

	var closed atomic.Int64
	var wg sync.WaitGroup
	for _, c := range idle {
		wg.Go(func() {
			_ = c.SetReadDeadline(opened.Add(timeout + 5*time.Second))
			if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				closed.Add(1)
			}
		})
	}
	wg.Wait()
	took := time.Since(opened)
	if closed.Load() != n {
		t.Fatalf("%d of %d idle sockets closed within %v", closed.Load(), n, took)
	}
	t.Logf("%d idle sockets closed %v after they opened (deadline %v)", n, took, timeout)
	_ = dev.Close()
	goroutinesBack(t, baseline)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// TestMaxClients: devices beyond the limit get CONNACK 0x89 (server busy).
func TestMaxClients(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.MaxClients = 2 })
	s.MustDial(t, appliance.Options{})
	s.MustDial(t, appliance.Options{})
	secret := s.MustRegister(t, "third", testModel)
	if got := s.dialResult(t, appliance.Options{ID: "third", Password: secret}); got != 0x89 {
		t.Fatalf("third device: CONNACK 0x%02x, want 0x89", got)
	}
}

// TestReceiveMaximum: CONNACK advertises it, and a device that has more
// QoS 2 requests unacknowledged is disconnected with 0x93.
func TestReceiveMaximum(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.ReceiveMaximum = 3 })
	dev := s.MustDial(t, appliance.Options{})
	if p := dev.Connack.Properties; p == nil || p.ReceiveMaximum == nil || *p.ReceiveMaximum != 3 {
		t.Fatalf("CONNACK properties %+v, want Receive Maximum 3", p)
	}
	c := s.mustConnectRaw(t, "greedy")
	for id := 1; id <= 4; id++ { // QoS 2, never released
		c.Send(t, publish(0x34, "recipes/categories", id, mqtttest.Props(pResponseTopic("devices/greedy/r")), ""))
	}
	if code, err := c.ClosedAfter(); err != nil || code != 0x93 {
		t.Fatalf("DISCONNECT 0x%02x, %v; want 0x93", code, err)
	}
}

// TestPersistentAbuseIsDisconnected: a device that keeps sending after
// its 429s is disconnected with 0x96; a quiet one is not affected.
func TestPersistentAbuseIsDisconnected(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.RequestRate, o.RequestBurst, o.AbuseStrikes = 5, 5, 10 })
	quiet := s.MustDial(t, appliance.Options{})
	baseline := goroutines()
	noisy := s.MustDial(t, appliance.Options{})
	var statuses []int
	for range 200 {
		// A request in flight when the server disconnects is never
		// acknowledged; paho then waits for its context.
		r, err := noisy.Ask(testContext(t, 2*time.Second), appliance.Request{Topic: "recipes/categories"})
		if err != nil {
			break
		}
		statuses = append(statuses, r.Status)
	}
	select {
	case <-noisy.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the noisy device is still connected")
	}
	// paho reports the DISCONNECT on a goroutine of its own, after Done.
	deadline := time.Now().Add(2 * time.Second)
	for noisy.ServerDisconnect() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if d := noisy.ServerDisconnect(); d == nil || d.ReasonCode != 0x96 {
		t.Fatalf("server DISCONNECT %+v, want reason 0x96", d)
	}
	if !slices.Contains(statuses, 429) || len(statuses) > 5+10+5 {
		t.Fatalf("statuses %v: want some 429s, then the disconnect", statuses)
	}
	if got := s.Responder.Stats().RateDisconnects; got != 1 {
		t.Fatalf("RateDisconnects = %d", got)
	}
	if r, err := quiet.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("quiet device: %v %v", r, err)
	}
	goroutinesBack(t, baseline)
}

// TestServerKeepAlive: a device asking for no keep-alive gets the
// server's maximum, so a dead connection is noticed eventually.
func TestServerKeepAlive(t *testing.T) {
	s := mustServe(t)
	zero := uint16(0)
	dev := s.MustDial(t, appliance.Options{KeepAlive: &zero})
	if p := dev.Connack.Properties; p == nil || p.ServerKeepAlive == nil || *p.ServerKeepAlive != 600 {
		t.Fatalf("CONNACK properties %+v, want Server Keep Alive 600", p)
	}
	dev = s.MustDial(t, appliance.Options{})
	if p := dev.Connack.Properties; p != nil && p.ServerKeepAlive != nil {
		t.Fatalf("a device asking for 30 s got Server Keep Alive %d", *p.ServerKeepAlive)
	}
}
