package responder_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// TestPreviewReplyIsWhatTheDeviceReceives asks for a recipe over raw MQTT
// and compares the PUBLISH that arrives, byte for byte and in size, with
// the preview of the same document; and checks that the preview's 413
// verdict is the one a device declaring that Maximum Packet Size gets,
// and that it is 413 exactly when the reply is larger than the limit.
func TestPreviewReplyIsWhatTheDeviceReceives(t *testing.T) {
	s := mustServe(t)
	demo, err := seed.Demo()
	if err != nil {
		t.Fatal(err)
	}
	r := demo.Recipes[0]
	doc, err := s.Catalog.Find(context.Background(), recipes.Query{Category: r.Category, RecipeID: r.ID, Model: testModel})
	if err != nil {
		t.Fatal(err)
	}
	const corr = 16
	preview := func(id string, max uint32) responder.ReplyPreview {
		t.Helper()
		p, err := s.Responder.PreviewReply(doc, responder.ReplyTo{
			ResponseTopic: "devices/" + id + "/replies", CorrelationLen: corr, QoS: 1, MaxPacketSize: max})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("OK", func(t *testing.T) {
		c := s.dialMax(t, "preview-ok", 0)
		status, packet, payload := c.ask(t, "preview-ok", "recipes/"+r.Category+"/"+r.ID, corr)
		p := preview("preview-ok", 0)
		if status != "200" {
			t.Fatalf("status %s, want 200", status)
		}
		if !bytes.Equal(payload, p.Payload) {
			t.Fatalf("device received\n%s\npreview says\n%s", payload, p.Payload)
		}
		if packet != p.PacketSize {
			t.Fatalf("device received a PUBLISH of %d bytes; preview says %d", packet, p.PacketSize)
		}
		if p.MaxPacketSize != s.Opts.MaxPacketSize || p.Refused {
			t.Fatalf("measured against %d (refused %v), want the server's %d and not refused", p.MaxPacketSize, p.Refused, s.Opts.MaxPacketSize)
		}
		if len(p.User) == 0 || p.User[0] != (responder.UserProperty{Key: "status", Value: "200"}) {
			t.Fatalf("user properties %v, want status 200 first", p.User)
		}
	})

	// Around the exact size: the preview must agree with the responder,
	// and both must refuse exactly the limits below the reply's size.
	for i, delta := range []int{-1, 0, 4, 5, 6, 16} {
		t.Run(fmt.Sprintf("Max%+d", delta), func(t *testing.T) {
			id := fmt.Sprintf("preview-max-%d", i)
			size := preview(id, 0).PacketSize
			max := uint32(size + delta)
			c := s.dialMax(t, id, max)
			status, _, _ := c.ask(t, id, "recipes/"+r.Category+"/"+r.ID, corr)
			p := preview(id, max)
			if got := status == "413"; got != p.Refused {
				t.Fatalf("Maximum Packet Size %d (reply %d bytes): device got %s, preview says refused=%v", max, size, status, p.Refused)
			}
			if delta < 0 && !p.Refused {
				t.Fatalf("a reply %d bytes over the limit is not refused", -delta)
			}
			if delta >= 0 && (p.Refused || status != "200") {
				t.Fatalf("a reply that fits a Maximum Packet Size of %d (%d bytes) is refused: device got %s, preview says refused=%v", max, size, status, p.Refused)
			}
		})
	}
}

func TestPreviewReplyErrInvalid(t *testing.T) {
	r := responder.New(nil, responder.Options{})
	for _, to := range []responder.ReplyTo{
		{ResponseTopic: "devices/oven/replies", CorrelationLen: responder.MaxCorrelationData + 1},
		{ResponseTopic: "devices/oven/+"},
		{ResponseTopic: "elsewhere/oven/replies"},
		{ResponseTopic: ""},
	} {
		_, err := r.PreviewReply(recipes.Document{ETag: "x", Data: []byte(`{}`)}, to)
		if recipes.ErrorCode(err) != recipes.EINVALID {
			t.Errorf("%+v: error %v, want EINVALID", to, err)
		}
	}
}

// rawDevice is a registered device speaking MQTT by hand.
type rawDevice struct {
	*mqtttest.Conn
	next int
}

// dialMax registers and connects device id declaring the Maximum Packet
// Size max (none if 0), subscribed to its replies at QoS 1.
func (s *testServer) dialMax(tb testing.TB, id string, max uint32) *rawDevice {
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
	c.Send(tb, mqtttest.Frame(0x82, mqtttest.U16(1), []byte{0}, mqtttest.Str("devices/"+id+"/#"), []byte{1}))
	if h, _ := c.MustRead(tb); h != 0x90 {
		tb.Fatalf("want SUBACK, got %02x", h)
	}
	return &rawDevice{Conn: c, next: 1}
}

// ask sends a QoS 1 request on topic with corr bytes of Correlation Data
// and returns the reply's status property, the size of its whole PUBLISH
// packet and its payload.
func (c *rawDevice) ask(tb testing.TB, id, topic string, corr int) (status string, size int, payload []byte) {
	tb.Helper()
	c.next++
	props := mqtttest.Cat([]byte{0x08}, mqtttest.Str("devices/"+id+"/replies"),
		[]byte{0x09}, mqtttest.Str(strings.Repeat("c", corr)))
	c.Send(tb, mqtttest.Frame(0x32, mqtttest.Str(topic), mqtttest.U16(c.next), mqtttest.Props(props)))
	return readReply(tb, c.Conn)
}
