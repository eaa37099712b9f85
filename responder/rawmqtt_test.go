package responder_test

import (
	"bytes"
	"runtime"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
)

// Raw MQTT 5 (see internal/mqtttest) for the tests that must send what no
// client library would.

// mustConnectRaw registers device id and connects it by hand.
func (s *testServer) mustConnectRaw(tb testing.TB, id string) *mqtttest.Conn {
	tb.Helper()
	secret := s.MustRegister(tb, id, testModel)
	c := mqtttest.Dial(tb, s.MQTTAddr)
	c.Send(tb, mqtttest.Connect(id, id, secret, nil))
	h, body := c.MustRead(tb)
	if h != 0x20 || len(body) < 2 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x, want success", h, body)
	}
	return c
}

// goroutinesBack waits until the process runs at most baseline goroutines
// of its own (see [goroutines]), the proof that a scenario left nothing
// behind on the server.
func goroutinesBack(tb testing.TB, baseline int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for goroutines() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("%d goroutines, baseline %d:\n%s", goroutines(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goroutines counts the goroutines of the process except the in-process
// Redis's (miniredis runs one per client connection, and go-redis opens
// more connections when a scenario's load calls for them and keeps them
// pooled: that is the pool's size, not a leak).
func goroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if len(g) > 0 && !bytes.Contains(g, []byte("github.com/alicebob/miniredis")) {
			count++
		}
	}
	return count
}
