package responder_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/seed"
)

// TestReplyExactlyMaxPacketSize: a device whose Maximum Packet Size is
// exactly the size of its reply gets the reply (MQTT 5 §3.1.2.11.4 only
// forbids larger packets), and one declaring a byte less gets 413. The
// reply's size is what a device without a limit receives, for each shape
// the size depends on: QoS of request and subscription, Correlation Data,
// a Subscription Identifier, a 304 (which must fit exactly too).
func TestReplyExactlyMaxPacketSize(t *testing.T) {
	s := mustServe(t)
	demo, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	rcp := demo.Recipes[0]
	topic := "recipes/" + rcp.Category + "/" + rcp.ID
	tests := []struct {
		name        string
		reqQoS      byte
		subQoS      byte
		corr        int
		subID       int
		notModified bool
	}{
		{name: "QoS1", reqQoS: 1, subQoS: 1, corr: 16},
		{name: "QoS0", reqQoS: 0, subQoS: 1, corr: 16},
		{name: "QoS1SubscribedAt0", reqQoS: 1, subQoS: 0, corr: 16},
		{name: "NoCorrelation", reqQoS: 1, subQoS: 1},
		{name: "LongCorrelation", reqQoS: 1, subQoS: 1, corr: 200},
		{name: "SubscriptionID", reqQoS: 1, subQoS: 1, corr: 16, subID: 200000},
		{name: "NotModified", reqQoS: 1, subQoS: 1, corr: 16, notModified: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// IDs of one length, so that every reply topic is as long.
			dial := func(role byte, max uint32) *sizedDevice {
				id := fmt.Sprintf("mps-%c-%02d", role, i)
				return s.dialSized(t, id, max, tt.subQoS, tt.subID)
			}
			etag := ""
			if tt.notModified {
				_, _, payload := dial('e', 0).ask(t, topic, 1, 0, "")
				var r struct{ ETag string }
				if err := json.Unmarshal(payload, &r); err != nil || r.ETag == "" {
					t.Fatalf("reply %s has no etag (%v)", payload, err)
				}
				etag = r.ETag
			}
			want := "200"
			if tt.notModified {
				want = "304"
			}
			status, size, _ := dial('u', 0).ask(t, topic, tt.reqQoS, tt.corr, etag)
			if status != want {
				t.Fatalf("without a limit: status %s, want %s", status, want)
			}
			status, got, _ := dial('x', uint32(size)).ask(t, topic, tt.reqQoS, tt.corr, etag)
			if status != want || got != size {
				t.Fatalf("Maximum Packet Size %d, the reply's size: status %s in %d bytes, want %s in %d", size, status, got, want, size)
			}
			if tt.notModified {
				return // a 304 is smaller than any 413: a byte less gets nothing
			}
			status, got, _ = dial('y', uint32(size-1)).ask(t, topic, tt.reqQoS, tt.corr, etag)
			if status != "413" || got > size-1 {
				t.Fatalf("Maximum Packet Size %d, a byte less than the reply: status %s in %d bytes, want 413", size-1, status, got)
			}
		})
	}
}

// sizedDevice is a registered device speaking MQTT by hand.
type sizedDevice struct {
	*mqtttest.Conn
	id   string
	next int
}

// dialSized registers and connects device id declaring the Maximum Packet
// Size max (none if 0), subscribed to its replies at qos with the
// Subscription Identifier subID (none if 0).
func (s *testServer) dialSized(tb testing.TB, id string, max uint32, qos byte, subID int) *sizedDevice {
	tb.Helper()
	secret := s.MustRegister(tb, id, testModel)
	var props []byte
	if max > 0 {
		props = binary.BigEndian.AppendUint32([]byte{0x27}, max)
	}
	c := mqtttest.Dial(tb, s.MQTTAddr)
	c.Send(tb, mqtttest.Connect(id, id, secret, props))
	if h, body := c.MustRead(tb); h != 0x20 || len(body) < 2 || body[1] != 0 {
		tb.Fatalf("CONNACK %02x % x, want success", h, body)
	}
	var sub []byte
	if subID > 0 {
		sub = mqtttest.Cat([]byte{0x0B}, mqtttest.VBI(subID))
	}
	c.Send(tb, mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(sub), mqtttest.Str("devices/"+id+"/#"), []byte{qos}))
	if h, body := c.MustRead(tb); h != 0x90 || body[len(body)-1] != qos {
		tb.Fatalf("SUBACK %02x % x, want QoS %d granted", h, body, qos)
	}
	return &sizedDevice{Conn: c, id: id, next: 1}
}

// ask sends a request at qos on topic with corr bytes of Correlation Data
// (and If-None-Match etag, unless empty), and returns the reply's status
// property, the size of its whole PUBLISH packet, and its payload.
func (c *sizedDevice) ask(tb testing.TB, topic string, qos byte, corr int, etag string) (status string, size int, payload []byte) {
	tb.Helper()
	props := mqtttest.Cat([]byte{0x08}, mqtttest.Str("devices/"+c.id+"/replies"))
	if corr > 0 {
		props = mqtttest.Cat(props, []byte{0x09}, mqtttest.Str(strings.Repeat("c", corr)))
	}
	if etag != "" {
		props = mqtttest.Cat(props, []byte{0x26}, mqtttest.Str("if-none-match"), mqtttest.Str(etag))
	}
	if qos == 0 {
		c.Send(tb, mqtttest.Frame(0x30, mqtttest.Str(topic), mqtttest.Props(props)))
	} else {
		c.next++
		c.Send(tb, mqtttest.Frame(0x32, mqtttest.Str(topic), mqtttest.U16(c.next), mqtttest.Props(props)))
	}
	return readReply(tb, c.Conn)
}

// readReply reads packets from c up to the next PUBLISH (a reply),
// acknowledges it at QoS 1, and returns its status User Property, the
// size of the whole packet and its payload.
func readReply(tb testing.TB, c *mqtttest.Conn) (status string, size int, payload []byte) {
	tb.Helper()
	for {
		h, body := c.MustRead(tb)
		if h>>4 != 3 {
			continue // the PUBACK of the request
		}
		size = 1 + len(mqtttest.VBI(len(body))) + len(body)
		n := 2 + int(binary.BigEndian.Uint16(body))
		if h&0x06 != 0 {
			c.Send(tb, mqtttest.Frame(0x40, body[n:n+2]))
			n += 2
		}
		plen, k := 0, 0
		for mult := 1; ; mult *= 128 {
			b := body[n+k]
			k++
			plen += int(b&0x7f) * mult
			if b&0x80 == 0 {
				break
			}
		}
		p := body[n+k : n+k+plen]
		payload = body[n+k+plen:]
		// The status User Property (0x26, "status", value) comes first.
		if i := bytes.Index(p, append([]byte{0x26}, mqtttest.Str("status")...)); i >= 0 {
			v := p[i+9:]
			status = string(v[2 : 2+int(binary.BigEndian.Uint16(v))])
		}
		return status, size, payload
	}
}
