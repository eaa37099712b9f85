package responder

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
)

// These tests reproduce the defects an outside review found (a refused
// QoS 2 request acknowledged with PUBACK, refusals logged with their
// payload and never held against the device, a burst of requests that
// lost replies, a device that stopped reading and corrupted its own
// stream, shutdown acknowledging requests it never answered), in raw MQTT 5
// over TCP, so that every packet the server writes can be checked.

// publishFrame is a PUBLISH of payload to topic at qos with packet id id,
// a Response Topic rt (if set) and Correlation Data corr (if set).
func publishFrame(qos byte, id uint16, topic, rt string, corr, payload []byte) []byte {
	var props []byte
	if rt != "" {
		props = mqtttest.Cat(props, []byte{0x08}, mqtttest.Str(rt))
	}
	if corr != nil {
		props = mqtttest.Cat(props, []byte{0x09}, mqtttest.Str(string(corr)))
	}
	var pid []byte
	if qos > 0 {
		pid = []byte{byte(id >> 8), byte(id)}
	}
	return mqtttest.Frame(0x30|qos<<1, mqtttest.Str(topic), pid, mqtttest.VBI(len(props)), props, payload)
}

// puback acknowledges the server's QoS 1 PUBLISH with packet id id.
func puback(id uint16) []byte { return []byte{0x40, 2, byte(id >> 8), byte(id)} }

// serverPacket is one packet the server wrote, decoded as far as the
// tests need.
type serverPacket struct {
	kind    byte // the packet type: 3 PUBLISH, 4 PUBACK, 5 PUBREC, 14 DISCONNECT, …
	qos     byte
	id      uint16 // packet identifier of a PUBLISH, PUBACK or PUBREC
	reason  byte   // reason code of an ack or DISCONNECT
	topic   string
	corr    string
	user    map[string]string
	payload []byte
}

// decodeServerPacket decodes what the tests look at in a packet.
func decodeServerPacket(tb testing.TB, h byte, body []byte) serverPacket {
	tb.Helper()
	p, err := decodePacket(h, body)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func decodePacket(h byte, body []byte) (serverPacket, error) {
	p := serverPacket{kind: h >> 4, user: map[string]string{}}
	switch p.kind {
	case 3:
		p.qos = h >> 1 & 3
		n := int(binary.BigEndian.Uint16(body))
		p.topic, body = string(body[2:2+n]), body[2+n:]
		if p.qos > 0 {
			p.id, body = binary.BigEndian.Uint16(body), body[2:]
		}
		plen, k := readVBI(body)
		props := body[k : k+plen]
		p.payload = body[k+plen:]
		for len(props) > 0 {
			id := props[0]
			props = props[1:]
			switch id {
			case 0x01:
				props = props[1:]
			case 0x02:
				props = props[4:]
			case 0x03, 0x08:
				props = props[2+int(binary.BigEndian.Uint16(props)):]
			case 0x09:
				n := int(binary.BigEndian.Uint16(props))
				p.corr, props = string(props[2:2+n]), props[2+n:]
			case 0x0b:
				_, k := readVBI(props)
				props = props[k:]
			case 0x26:
				kn := int(binary.BigEndian.Uint16(props))
				key := string(props[2 : 2+kn])
				props = props[2+kn:]
				vn := int(binary.BigEndian.Uint16(props))
				p.user[key], props = string(props[2:2+vn]), props[2+vn:]
			default:
				return p, fmt.Errorf("PUBLISH property 0x%02x not expected", id)
			}
		}
	case 4, 5:
		p.id = binary.BigEndian.Uint16(body)
		if len(body) > 2 {
			p.reason = body[2]
		}
	case 14:
		if len(body) > 0 {
			p.reason = body[0]
		}
	}
	return p, nil
}

func readVBI(b []byte) (n, size int) {
	mult := 1
	for i, c := range b {
		n += int(c&0x7f) * mult
		if c&0x80 == 0 {
			return n, i + 1
		}
		mult *= 128
	}
	return n, len(b)
}

// next reads and decodes the server's next packet.
func (c *rawConn) next(tb testing.TB) serverPacket {
	tb.Helper()
	h, body := c.MustRead(tb)
	return decodeServerPacket(tb, h, body)
}

// dialQoS1 connects id anonymously with the CONNECT properties props and
// subscribes it to its replies at QoS 1.
func dialQoS1(tb testing.TB, addr, id string, props []byte) *rawConn {
	tb.Helper()
	return dialSubscribed(tb, addr, id, props, 1)
}

// TestRefusalsAreAcknowledgedByQoS: a refused QoS 1 publish gets PUBACK
// 0x87 and a refused QoS 2 publish PUBREC 0x87 (a PUBACK to QoS 2 is a
// protocol error to the client), whether it is refused for its Response
// Topic, for its topic, or for a topic reserved for the server, to which
// mochi would otherwise answer nothing. Nothing is published, and the
// device keeps its session.
func TestRefusalsAreAcknowledgedByQoS(t *testing.T) {
	r := mustStart(t, Options{})
	victim := dialQoS1(t, r.Addr(), "other", nil)
	c := dialQoS1(t, r.Addr(), "oven", nil)
	tests := []struct {
		name, topic, rt string
	}{
		{"ForeignResponseTopic", "recipes/categories", "devices/other/r"},
		{"ForeignTopic", "devices/other/x", ""},
		{"NotARequestTopic", "elsewhere/x", ""},
		{"SysTopic", "$SYS/x", ""},
		{"SysTopicAnyCase", "$sys/broker/load", ""},
		{"SharePrefix", "$share/g", ""},
	}
	id := uint16(10)
	for _, tt := range tests {
		for _, qos := range []byte{1, 2} {
			t.Run(fmt.Sprintf("%s/QoS%d", tt.name, qos), func(t *testing.T) {
				id++
				c.Send(t, publishFrame(qos, id, tt.topic, tt.rt, []byte("c"), []byte("{}")))
				p := c.next(t)
				want := byte(4) // PUBACK
				if qos == 2 {
					want = 5 // PUBREC
				}
				if p.kind != want || p.id != id || p.reason != 0x87 {
					t.Fatalf("got packet type %d id %d reason 0x%02x; want type %d id %d reason 0x87", p.kind, p.id, p.reason, want, id)
				}
			})
		}
	}
	// Still connected and answered; the victim got nothing but its own reply.
	c.Answered(t, "oven")
	victim.Answered(t, "other")
	if st := r.Stats(); st.Refused < int64(2*len(tests)) {
		t.Fatalf("Refused = %d, want at least %d", st.Refused, 2*len(tests))
	}
}

// TestRefusalsAreLoggedBoundedAndStruck: refused publishes are logged at a
// bounded rate, without their payload (mochi logged each one at ERROR
// with the payload as decimal bytes: 3 bytes of log per byte sent), and
// count against the device, which is disconnected (0x87) when it keeps on.
func TestRefusalsAreLoggedBoundedAndStruck(t *testing.T) {
	var logs lockedBuffer
	r := mustStart(t, Options{Logger: newTestLogger(&logs), AbuseStrikes: 1000})
	c := dialQoS1(t, r.Addr(), "oven", nil)
	payload := []byte(strings.Repeat("Z", 20<<10))
	const n = 50
	for i := range n {
		c.Send(t, publishFrame(1, uint16(i+1), "recipes/categories", "devices/other/r", nil, payload))
		if p := c.next(t); p.kind != 4 || p.reason != 0x87 {
			t.Fatalf("publish %d: packet type %d reason 0x%02x, want PUBACK 0x87", i, p.kind, p.reason)
		}
	}
	c.Answered(t, "oven")
	out := logs.String()
	if strings.Contains(out, "ZZZZ") || strings.Contains(out, "90 90 90") {
		t.Fatal("the log holds the refused payload")
	}
	if lines := strings.Count(out, "publish refused"); lines == 0 || lines > 15 {
		t.Fatalf("%d log lines for %d refusals; want some, at most 15", lines, n)
	}
	if len(out) > 32<<10 {
		t.Fatalf("%d bytes of log for %d refused publishes of %d bytes", len(out), n, len(payload))
	}
	if got := r.Stats().Refused; got != n {
		t.Fatalf("Refused = %d, want %d", got, n)
	}

	// With few strikes to spare, a device that keeps on is disconnected.
	r2 := mustStart(t, Options{AbuseStrikes: 5, RequestRate: 1})
	c2 := dialQoS1(t, r2.Addr(), "oven", nil)
	for i := range 20 {
		c2.Send(t, publishFrame(1, uint16(i+1), "recipes/categories", "devices/other/r", nil, nil))
	}
	for {
		p := c2.next(t)
		if p.kind == 14 {
			if p.reason != 0x87 {
				t.Fatalf("DISCONNECT 0x%02x, want 0x87", p.reason)
			}
			break
		}
		if p.kind != 4 || p.reason != 0x87 {
			t.Fatalf("packet type %d reason 0x%02x, want PUBACK 0x87", p.kind, p.reason)
		}
	}
	if got := r2.Stats().RefusalDisconnects; got != 1 {
		t.Fatalf("RefusalDisconnects = %d, want 1", got)
	}
}

// burst sends n QoS 1 requests in one write, with Correlation Data
// "0".."n-1", starting at packet id first.
func (c *rawConn) burst(tb testing.TB, id string, first, n int) {
	tb.Helper()
	var b []byte
	for i := range n {
		b = append(b, publishFrame(1, uint16(first+i), "recipes/categories", "devices/"+id+"/r",
			[]byte(fmt.Sprint(first+i)), nil)...)
	}
	c.Send(tb, b)
}

// TestBurstIsAnsweredInFull: a device that sends many more requests at
// once than its burst allows has sent them all before it could see a 429:
// every one is acknowledged and answered (200 or 429 with a retry-after
// hint), and none counts as a strike. Only requests sent after the device
// acknowledged a 429 count; when they use up the strikes, the device is
// disconnected with 0x96 once every request acknowledged is answered.
func TestBurstIsAnsweredInFull(t *testing.T) {
	// A slow refill keeps the episode going however slowly this runs.
	r := mustStart(t, Options{RequestRate: 0.5, RequestBurst: 5, AbuseStrikes: 3})
	c := dialQoS1(t, r.Addr(), "oven", nil)
	const n = 250
	c.burst(t, "oven", 1, n)
	acked, replies, statuses := map[uint16]bool{}, map[string]int{}, map[int]int{}
	var tooMany *serverPacket
	for len(acked) < n || len(replies) < n {
		p := c.next(t)
		switch p.kind {
		case 4:
			acked[p.id] = true
		case 3:
			var body struct{ Status int }
			if err := json.Unmarshal(p.payload, &body); err != nil {
				t.Fatalf("reply %q: %v", p.payload, err)
			}
			replies[p.corr]++
			statuses[body.Status]++
			if body.Status == 429 {
				if p.user["retry-after"] == "" || p.user["status"] != "429" {
					t.Fatalf("429 reply user properties %v: want status and retry-after", p.user)
				}
				if tooMany == nil {
					tooMany = &p
				}
			}
		case 14:
			t.Fatalf("DISCONNECT 0x%02x after %d acknowledgements and %d replies (%v)", p.reason, len(acked), len(replies), statuses)
		default:
			t.Fatalf("unexpected packet type %d", p.kind)
		}
	}
	for corr, k := range replies {
		if k != 1 {
			t.Fatalf("request %s answered %d times", corr, k)
		}
	}
	if statuses[200] != 5 || statuses[429] != n-5 {
		t.Fatalf("statuses %v, want 5 × 200 and %d × 429", statuses, n-5)
	}
	if got := r.Stats().RateDisconnects; got != 0 {
		t.Fatalf("RateDisconnects = %d after a burst", got)
	}

	// Now the device acknowledges a 429 and keeps on regardless: it is
	// struck, and disconnected once what it was acknowledged is answered.
	c.Send(t, puback(tooMany.id))
	c.burst(t, "oven", n+1, 20)
	acked, replies = map[uint16]bool{}, map[string]int{}
	for {
		p := c.next(t)
		if p.kind == 4 {
			acked[p.id] = true
		}
		if p.kind == 3 {
			replies[p.corr]++
		}
		if p.kind == 14 {
			if p.reason != 0x96 {
				t.Fatalf("DISCONNECT 0x%02x, want 0x96", p.reason)
			}
			break
		}
	}
	if len(acked) == 0 || len(acked) == 20 {
		t.Fatalf("%d of 20 requests acknowledged; want the ones before the strikes ran out", len(acked))
	}
	for id := range acked {
		if replies[fmt.Sprint(id)] != 1 {
			t.Fatalf("request %d acknowledged, answered %d times before the DISCONNECT", id, replies[fmt.Sprint(id)])
		}
	}
	c.WaitClosed(t)
	if got := r.Stats().RateDisconnects; got != 1 {
		t.Fatalf("RateDisconnects = %d, want 1", got)
	}
}

// bigCatalog answers every query with a document of size bytes.
type bigCatalog struct{ size int }

func (c bigCatalog) FindCached(recipes.Query) (recipes.Document, error) {
	return recipes.Document{ETag: "e", Data: []byte(`"` + strings.Repeat("x", c.size) + `"`)}, nil
}

func (c bigCatalog) Find(context.Context, recipes.Query) (recipes.Document, error) {
	return c.FindCached(recipes.Query{})
}

// startWith runs a responder over catalog admitting anonymous devices.
func startWith(tb testing.TB, catalog Catalog, opts Options) *Responder {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts.Listener, opts.AllowAnonymous = ln, true
	r := New(catalog, opts)
	if err := r.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.Close(ctx)
	})
	return r
}

// TestDeviceThatStopsReadingIsCutOff: a device that asks for 37 KB replies
// and stops reading is disconnected when a write times out — its keep-alive
// does not matter — and what it was sent up to then is whole packets (at
// most the last one cut short): no packet is ever written after a broken
// one. Other devices are answered meanwhile.
func TestDeviceThatStopsReadingIsCutOff(t *testing.T) {
	r := startWith(t, bigCatalog{size: 37 << 10}, Options{
		WriteTimeout: 300 * time.Millisecond, RequestRate: 1e6, RequestBurst: 1e6,
	})
	bystander := dialDevice(t, r.Addr(), "bystander")
	c := dialDevice(t, r.Addr(), "stalled")
	for range 500 {
		c.Send(t, mqtttest.Request("stalled"))
	}
	start := time.Now()
	eventually(t, "a failed write ends the connection", func() bool { return r.Stats().WriteFailures == 1 })
	t.Logf("cut off %v after the last request", time.Since(start))
	eventually(t, "the device is counted off", func() bool { return r.Stats().Connected == 1 })
	bystander.Answered(t, "bystander")

	// Read everything the server wrote: whole packets, then the end.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c.Conn)
	whole := 0
	for {
		h, err := br.ReadByte()
		if err != nil {
			t.Logf("stream ended after %d whole replies: %v", whole, err)
			break
		}
		n, k := 0, 0
		for mult := 1; ; mult *= 128 {
			b, err := br.ReadByte()
			if err != nil {
				t.Fatalf("stream ends inside a fixed header after %d packets", whole)
			}
			n += int(b&0x7f) * mult
			if k++; b&0x80 == 0 {
				break
			}
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Logf("stream ended inside reply %d: %v", whole+1, err)
			break // the last packet, cut short when the write timed out
		}
		p := decodeServerPacket(t, h, body)
		if p.kind != 3 || !json.Valid(p.payload) {
			t.Fatalf("packet %d: type %d, payload valid JSON %v: the stream is corrupt", whole, p.kind, json.Valid(p.payload))
		}
		whole++
	}
	if whole == 0 || whole >= 500 {
		t.Fatalf("%d whole replies before the end; want some, not all", whole)
	}
}

// TestDeviceThatNeverAcknowledgesIsDisconnected: a device that reads but
// never acknowledges its QoS 1 replies holds its Receive Maximum and fills
// its outbox; its further requests are not acknowledged (it keeps them),
// and once the outbox has made no progress for the write timeout, it is
// disconnected with 0x97 (quota exceeded). No reply is dropped.
func TestDeviceThatNeverAcknowledgesIsDisconnected(t *testing.T) {
	r := mustStart(t, Options{OutboxLimit: 10, RequestRate: 1e6, RequestBurst: 1e6, WriteTimeout: 300 * time.Millisecond})
	receiveMax1 := []byte{0x21, 0, 1}
	c := dialQoS1(t, r.Addr(), "oven", receiveMax1)
	c.burst(t, "oven", 1, 30)
	time.Sleep(500 * time.Millisecond)
	c.burst(t, "oven", 31, 1) // the outbox is stalled now
	publishes, acks := 0, 0
	for {
		p := c.next(t)
		switch p.kind {
		case 3:
			publishes++
		case 4:
			acks++
		}
		if p.kind == 14 {
			if p.reason != 0x97 {
				t.Fatalf("DISCONNECT 0x%02x, want 0x97", p.reason)
			}
			break
		}
	}
	if publishes != 1 || acks != 1+10 {
		t.Fatalf("%d replies, %d requests acknowledged; want 1 (its Receive Maximum) and 11 (that one and a full outbox)", publishes, acks)
	}
	if got := r.Stats().StalledDisconnects; got != 1 {
		t.Fatalf("StalledDisconnects = %d, want 1", got)
	}
}

// TestSlowAcknowledgerIsAnsweredInFull: a device with a small Receive
// Maximum that sends a burst larger than its outbox, and acknowledges its
// replies as they come, gets every acknowledged request answered; what
// the server did not acknowledge it may send again. It is not disconnected.
func TestSlowAcknowledgerIsAnsweredInFull(t *testing.T) {
	r := mustStart(t, Options{OutboxLimit: 10, RequestRate: 1e6, RequestBurst: 1e6, WriteTimeout: 300 * time.Millisecond})
	receiveMax2 := []byte{0x21, 0, 2}
	c := dialQoS1(t, r.Addr(), "oven", receiveMax2)
	c.burst(t, "oven", 1, 50)
	acked, answered := map[string]bool{}, map[string]int{}
	// Admission happens while the burst is read, before any of the
	// device's acknowledgements arrive: every PUBACK precedes the replies
	// that follow them, so answers catching up with acknowledgements
	// (a full outbox's worth at least) means everything was seen.
	for len(acked) < 10 || len(answered) < len(acked) {
		p := c.next(t)
		switch p.kind {
		case 4:
			acked[fmt.Sprint(p.id)] = true
		case 3:
			answered[p.corr]++
			c.Send(t, puback(p.id))
		case 14:
			t.Fatalf("DISCONNECT 0x%02x", p.reason)
		}
	}
	if len(acked) == 0 || len(acked) == 50 {
		t.Fatalf("%d of 50 acknowledged; want the outbox's worth", len(acked))
	}
	for id := range acked {
		if answered[id] != 1 {
			t.Fatalf("request %s acknowledged, answered %d times", id, answered[id])
		}
	}
	if len(answered) != len(acked) {
		t.Fatalf("%d answers for %d acknowledged requests", len(answered), len(acked))
	}
	// Later requests are admitted again.
	c.Send(t, publishFrame(1, 100, "recipes/categories", "devices/oven/r", []byte("100"), nil))
	for got := map[byte]bool{}; !got[3] || !got[4]; {
		p := c.next(t)
		got[p.kind] = true
		if p.kind == 3 {
			c.Send(t, puback(p.id))
		}
	}
}

// gatedCatalog answers from the store only when released; nothing is
// cached.
type gatedCatalog struct {
	asked   chan struct{}
	release chan struct{}
}

func (c *gatedCatalog) FindCached(recipes.Query) (recipes.Document, error) {
	return recipes.Document{}, recipes.ErrUncached
}

func (c *gatedCatalog) Find(ctx context.Context, q recipes.Query) (recipes.Document, error) {
	c.asked <- struct{}{}
	<-c.release
	return staticCatalog{}.Find(ctx, q)
}

// TestShutdownAnswersWhatItAcknowledged: a request acknowledged before the
// server stops is answered before the DISCONNECT 0x8B; one that arrives
// while it stops is not acknowledged (the device sends it again to the
// next server); every session ends with DISCONNECT 0x8B and a FIN, never
// a reset, even for a device that keeps sending.
func TestShutdownAnswersWhatItAcknowledged(t *testing.T) {
	cat := &gatedCatalog{asked: make(chan struct{}, 1), release: make(chan struct{})}
	r := startWith(t, cat, Options{StoreTimeout: 5 * time.Second})
	a := dialQoS1(t, r.Addr(), "a", nil)
	b := dialQoS1(t, r.Addr(), "b", nil)

	a.Send(t, publishFrame(1, 1, "recipes/categories", "devices/a/r", []byte("a1"), nil))
	if p := a.next(t); p.kind != 4 || p.id != 1 {
		t.Fatalf("a: packet type %d id %d, want PUBACK 1", p.kind, p.id)
	}
	<-cat.asked
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		closed <- r.Close(ctx)
	}()
	eventually(t, "the server is closing", func() bool {
		r.gate.RLock()
		defer r.gate.RUnlock()
		return r.closing
	})

	// b's request arrives while the server waits for a's answer.
	b.Send(t, publishFrame(1, 7, "recipes/categories", "devices/b/r", []byte("b7"), nil))
	_ = b.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := b.ReadByte(); err == nil {
		t.Fatal("b: the server acknowledged or answered a request that arrived while it was stopping")
	}

	close(cat.release)
	p := a.next(t)
	if p.kind != 3 || p.corr != "a1" {
		t.Fatalf("a: packet type %d correlation %q, want the reply to a1", p.kind, p.corr)
	}
	a.Send(t, puback(p.id))
	for _, c := range []*rawConn{a, b} {
		if p := c.next(t); p.kind != 14 || p.reason != 0x8b {
			t.Fatalf("packet type %d reason 0x%02x, want DISCONNECT 0x8B", p.kind, p.reason)
		}
		// A device that keeps sending after the DISCONNECT gets a FIN,
		// not a reset.
		_, _ = c.Write(publishFrame(0, 0, "recipes/categories", "devices/x/r", nil, nil))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("after DISCONNECT: %v, want EOF", err)
		}
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownUnderLoadNeverResets: devices that keep sending requests
// while the server stops get every acknowledged request answered, then
// DISCONNECT 0x8B, then a FIN.
func TestShutdownUnderLoadNeverResets(t *testing.T) {
	r := mustStart(t, Options{RequestRate: 1e6, RequestBurst: 1e6})
	const devices = 8
	conns := make([]*rawConn, devices)
	for i := range conns {
		conns[i] = dialQoS1(t, r.Addr(), fmt.Sprint("load-", i), nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, devices)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- loadUntilDisconnect(c, fmt.Sprint("load-", i))
		}()
	}
	time.Sleep(200 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// loadUntilDisconnect sends requests from device id without pause and
// checks what comes back: every acknowledged request answered before the
// DISCONNECT 0x8B, and the connection ending with a FIN.
func loadUntilDisconnect(c *rawConn, id string) error {
	stop := make(chan struct{})
	go func() {
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			pid := uint16(i%60000 + 1)
			if _, err := c.Write(publishFrame(1, pid, "recipes/categories", "devices/"+id+"/r", []byte(fmt.Sprint(pid)), nil)); err != nil {
				return
			}
			if i%50 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	defer close(stop)
	acked, answered := map[string]bool{}, map[string]bool{}
	for {
		h, body, err := c.ReadPacket()
		if err != nil {
			return fmt.Errorf("%s: read before DISCONNECT: %w", id, err)
		}
		switch h >> 4 {
		case 4:
			acked[fmt.Sprint(binary.BigEndian.Uint16(body))] = true
		case 3:
			p, err := decodePacket(h, body)
			if err != nil {
				return err
			}
			if p.qos > 0 {
				_, _ = c.Write(puback(p.id))
			}
			answered[p.corr] = true
		case 14:
			if len(body) == 0 || body[0] != 0x8b {
				return fmt.Errorf("%s: DISCONNECT % x, want 0x8B", id, body)
			}
			for k := range acked {
				if !answered[k] {
					return fmt.Errorf("%s: request %s acknowledged, never answered (%d acknowledged)", id, k, len(acked))
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			for {
				if _, err := c.ReadByte(); err != nil {
					if errors.Is(err, syscall.ECONNRESET) {
						return fmt.Errorf("%s: connection reset after DISCONNECT", id)
					}
					if !errors.Is(err, io.EOF) {
						return fmt.Errorf("%s: after DISCONNECT: %w", id, err)
					}
					return nil
				}
			}
		}
	}
}
