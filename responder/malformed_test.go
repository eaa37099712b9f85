package responder_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/mqtttest"
)

// Properties for hand-built packets.
var (
	pResponseTopic = func(s string) []byte { return mqtttest.Cat([]byte{0x08}, mqtttest.Str(s)) }
	pCorrelation   = func(s string) []byte { return mqtttest.Cat([]byte{0x09}, mqtttest.Str(s)) }
	pFormat        = func(v byte) []byte { return []byte{0x01, v} }
	pTopicAlias    = mqtttest.Cat([]byte{0x23}, mqtttest.U16(1))
	pSubID         = func(v int) []byte { return mqtttest.Cat([]byte{0x0b}, mqtttest.VBI(v)) }
	pReceiveMax    = func(v int) []byte { return mqtttest.Cat([]byte{0x21}, mqtttest.U16(v)) }
)

// publish builds a PUBLISH body: topic, packet id (QoS > 0), properties.
func publish(h byte, topic string, id int, p []byte, payload string) []byte {
	var pid []byte
	if h>>1&3 > 0 {
		pid = mqtttest.U16(id)
	}
	return mqtttest.Frame(h, mqtttest.Str(topic), pid, p, []byte(payload))
}

// TestMalformedPacketsCloseOnlyThatConnection sends the malformed and
// forbidden packets that broker conformance suites send, each on its own
// authenticated connection after a valid CONNECT. Each must close that
// connection (with the MQTT 5 reason code in a DISCONNECT), nothing may
// panic, and another device must keep being answered throughout.
func TestMalformedPacketsCloseOnlyThatConnection(t *testing.T) {
	s := mustServe(t)
	other := s.MustDial(t, appliance.Options{ID: "bystander"})
	ask := func() {
		t.Helper()
		if r, err := other.Ask(testContext(t, 5*time.Second), appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
			t.Fatalf("bystander not answered: %v %v", r, err)
		}
	}
	ask()
	baseline := goroutines()
	rt := pResponseTopic
	tests := []struct {
		name string
		send []byte
		want int // reason code of the server's DISCONNECT
	}{
		{"TruncatedSubscribe", []byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'}, 0x81}, // panics mochi v2.7.9
		{"TruncatedSubscribeFilter", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.U16(40), []byte("devices/")), 0x81},
		{"TruncatedPublishTopic", mqtttest.Frame(0x32, mqtttest.U16(300), []byte("recipes/")), 0x81},
		{"RemainingLengthFiveBytes", []byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f}, 0x81},
		{"RemainingLengthNotMinimal", []byte{0xc0, 0x80, 0x00}, 0x81},
		{"PropertyLengthBeyondPacket", mqtttest.Frame(0x32, mqtttest.Str("recipes/categories"), mqtttest.U16(1), mqtttest.VBI(50), rt("devices/m/r")), 0x81},
		{"PropertyLengthNotMinimal", mqtttest.Frame(0x30, mqtttest.Str("recipes/categories"), []byte{0x80, 0x00}), 0x81},
		{"InvalidUTF8Topic", publish(0x32, "recipes/\xff", 1, mqtttest.Props(rt("devices/m/r")), ""), 0x81},
		{"SurrogateInTopic", publish(0x32, "recipes/\xed\xa0\x80", 1, mqtttest.Props(), ""), 0x81},
		{"NULInTopic", publish(0x32, "recipes/a\x00b", 1, mqtttest.Props(), ""), 0x81},
		{"InvalidUTF8ResponseTopic", publish(0x32, "recipes/categories", 1, mqtttest.Props(rt("devices/m/\xc3")), ""), 0x81},
		{"InvalidUTF8UserProperty", publish(0x32, "recipes/categories", 1, mqtttest.Props([]byte{0x26}, mqtttest.Str("k"), mqtttest.Str("\xfe")), ""), 0x81},
		{"WildcardInTopicName", publish(0x32, "recipes/+", 1, mqtttest.Props(), ""), 0x82},
		{"HashInTopicName", publish(0x30, "recipes/#", 0, mqtttest.Props(), ""), 0x82},
		{"EmptyTopicName", publish(0x32, "", 1, mqtttest.Props(), ""), 0x82},
		{"DuplicateResponseTopic", publish(0x32, "recipes/categories", 1, mqtttest.Props(rt("devices/m/a"), rt("devices/m/b")), ""), 0x82},
		{"DuplicateCorrelationData", publish(0x32, "recipes/categories", 1, mqtttest.Props(pCorrelation("a"), pCorrelation("b")), ""), 0x82},
		{"DuplicatePayloadFormat", publish(0x32, "recipes/categories", 1, mqtttest.Props(pFormat(1), pFormat(1)), ""), 0x82},
		{"PayloadFormatTwo", publish(0x32, "recipes/categories", 1, mqtttest.Props(pFormat(2)), ""), 0x82},
		{"UnknownProperty", publish(0x32, "recipes/categories", 1, mqtttest.Props([]byte{0x7f, 0x00}), ""), 0x82},
		{"ConnectOnlyProperty", publish(0x32, "recipes/categories", 1, mqtttest.Props(pReceiveMax(5)), ""), 0x82},
		{"SubscriptionIDInPublish", publish(0x32, "recipes/categories", 1, mqtttest.Props(pSubID(3)), ""), 0x82},
		{"TopicAlias", publish(0x32, "recipes/categories", 1, mqtttest.Props(pTopicAlias), ""), 0x94},
		{"QoS3", publish(0x36, "recipes/categories", 1, mqtttest.Props(), ""), 0x81},
		{"DupAtQoS0", publish(0x38, "recipes/categories", 0, mqtttest.Props(), ""), 0x81},
		{"Retain", publish(0x31, "recipes/categories", 0, mqtttest.Props(), ""), 0x9a},
		{"PacketID0Publish", publish(0x32, "recipes/categories", 0, mqtttest.Props(), ""), 0x82},
		{"PacketID0Subscribe", mqtttest.Frame(0x82, mqtttest.U16(0), mqtttest.Props(), mqtttest.Str("devices/m/#"), []byte{1}), 0x82},
		{"PacketID0Unsubscribe", mqtttest.Frame(0xa2, mqtttest.U16(0), mqtttest.Props(), mqtttest.Str("devices/m/#")), 0x82},
		{"PacketID0Puback", mqtttest.Frame(0x40, mqtttest.U16(0)), 0x82},
		{"PubackTrailingBytes", mqtttest.Frame(0x40, mqtttest.U16(1), []byte{0}, mqtttest.Props(), []byte{9}), 0x81},
		{"SubscribeNoFilters", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props()), 0x82},
		{"SubscribeReservedOptionBits", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/#"), []byte{0xc1}), 0x81},
		{"SubscribeQoS3", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/#"), []byte{3}), 0x81},
		{"SubscribeRetainHandling3", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/#"), []byte{0x31}), 0x82},
		{"SubscribeMisplacedHash", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/a#"), []byte{1}), 0x82},
		{"SubscribeHashNotLast", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/#/m"), []byte{1}), 0x82},
		{"SubscribeMisplacedPlus", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m+/x"), []byte{1}), 0x82},
		{"SubscribeEmptyFilter", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str(""), []byte{1}), 0x82},
		{"SubscribeSharedNoGroup", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("$share//devices/m/#"), []byte{1}), 0x82},
		{"SubscribeInvalidUTF8", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/\xff/#"), []byte{1}), 0x81},
		{"SubscriptionIDZero", mqtttest.Frame(0x82, mqtttest.U16(1), mqtttest.Props(pSubID(0)), mqtttest.Str("devices/m/#"), []byte{1}), 0x82},
		{"SubscribeBadFlags", mqtttest.Frame(0x80, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/#"), []byte{1}), 0x81},
		{"UnsubscribeBadFlags", mqtttest.Frame(0xa0, mqtttest.U16(1), mqtttest.Props(), mqtttest.Str("devices/m/#")), 0x81},
		{"UnsubscribeNoFilters", mqtttest.Frame(0xa2, mqtttest.U16(1), mqtttest.Props()), 0x82},
		{"PubrelBadFlags", mqtttest.Frame(0x60, mqtttest.U16(1)), 0x81},
		{"PingreqWithBody", []byte{0xc0, 0x01, 0x00}, 0x81},
		{"SecondConnect", mqtttest.Connect("malformed", "malformed", "x", nil), 0x82},
		{"ConnackFromClient", []byte{0x20, 0x03, 0x00, 0x00, 0x00}, 0x82},
		{"SubackFromClient", mqtttest.Frame(0x90, mqtttest.U16(1), mqtttest.Props(), []byte{0}), 0x82},
		{"ReservedType0", []byte{0x00, 0x00}, 0x82},
		{"Auth", mqtttest.Frame(0xf0, []byte{0x18}, mqtttest.Props()), 0x82},
		{"DisconnectServerReference", mqtttest.Frame(0xe0, []byte{0}, mqtttest.Props(mqtttest.Cat([]byte{0x1c}, mqtttest.Str("elsewhere")))), 0x82},
		{"OversizedPacket", mqtttest.Cat([]byte{0x30}, mqtttest.VBI(300<<10)), 0x95},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := s.mustConnectRaw(t, fmt.Sprintf("malformed-%d", i))
			c.Send(t, tt.send)
			got, err := c.ClosedAfter()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("server's DISCONNECT reason 0x%02x, want 0x%02x", got, tt.want)
			}
			ask()
		})
	}

	// A Response Topic with a wildcard is refused as PROTOCOL.md §2 says
	// (PUBACK 0x87, nothing published) without closing the connection.
	t.Run("WildcardResponseTopicRefusedNotClosed", func(t *testing.T) {
		c := s.mustConnectRaw(t, "wild-rt")
		c.Send(t, publish(0x32, "recipes/categories", 7, mqtttest.Props(rt("devices/wild-rt/+")), ""))
		h, body := c.MustRead(t)
		if h != 0x40 || len(body) < 3 || body[2] != 0x87 {
			t.Fatalf("got %02x % x, want PUBACK 0x87", h, body)
		}
		c.Send(t, []byte{0xc0, 0x00})
		if h, _ := c.MustRead(t); h != 0xd0 {
			t.Fatalf("got %02x after PINGREQ, want PINGRESP: the connection should stay open", h)
		}
	})

	st := s.Responder.Stats()
	if st.Recovered != 0 {
		t.Errorf("%d connection goroutines panicked; the packet checks should have refused their packets first", st.Recovered)
	}
	if st.Malformed < int64(len(tests)) {
		t.Errorf("Malformed = %d, want at least %d", st.Malformed, len(tests))
	}
	ask()
	goroutinesBack(t, baseline+4) // the last subtest's connection may still be winding down
}

// TestMalformedConnectRefused covers the first packet, before anyone is
// authenticated: the connection is refused with a CONNACK saying why, or
// simply closed when it does not even start with CONNECT.
func TestMalformedConnectRefused(t *testing.T) {
	s := mustServe(t)
	secret := s.MustRegister(t, "ok-oven", testModel)
	valid := func(mod func(flags *byte, p *[]byte)) []byte {
		flags := byte(0xc2)
		p := mqtttest.Props()
		if mod != nil {
			mod(&flags, &p)
		}
		return mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, flags}, mqtttest.U16(30), p, mqtttest.Str("ok-oven"), mqtttest.Str("ok-oven"), mqtttest.Str(secret))
	}
	tests := []struct {
		name string
		send []byte
		want int // CONNACK reason code; -1: closed without one
	}{
		{"OKValid", valid(nil), 0x00},
		{"FirstPacketNotConnect", publish(0x30, "recipes/categories", 0, mqtttest.Props(), ""), -1},
		{"HTTPRequest", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), -1},
		{"MQTT311", mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{4, 0x02}, mqtttest.U16(30), mqtttest.Str("ok-oven")), 0x01},
		{"UnknownProtocolLevel", mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{6, 0x02}, mqtttest.U16(30), mqtttest.Props(), mqtttest.Str("ok-oven")), 0x84},
		{"WrongProtocolName", mqtttest.Frame(0x10, mqtttest.Str("MQTX"), []byte{5, 0x02}, mqtttest.U16(30), mqtttest.Props(), mqtttest.Str("ok-oven")), 0x84},
		{"ReservedFlag", valid(func(f *byte, _ *[]byte) { *f |= 1 }), 0x81},
		{"WillQoSWithoutWill", valid(func(f *byte, _ *[]byte) { *f |= 0x08 }), 0x81},
		{"DuplicateProperty", valid(func(_ *byte, p *[]byte) { *p = mqtttest.Props(pReceiveMax(5), pReceiveMax(6)) }), 0x82},
		{"ReceiveMaximumZero", valid(func(_ *byte, p *[]byte) { *p = mqtttest.Props(pReceiveMax(0)) }), 0x82},
		{"PublishOnlyProperty", valid(func(_ *byte, p *[]byte) { *p = mqtttest.Props(pResponseTopic("devices/x/y")) }), 0x82},
		{"TruncatedConnect", mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0xc2}, mqtttest.U16(30), mqtttest.Props(), mqtttest.U16(20), []byte("ok")), 0x81},
		{"TrailingBytes", mqtttest.Cat(valid(nil)[:1], mqtttest.VBI(len(valid(nil))-2+1), valid(nil)[2:], []byte{0}), 0x81},
		{"InvalidUTF8ClientID", mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0x02}, mqtttest.U16(30), mqtttest.Props(), mqtttest.Str("ok\xff")), 0x81},
		{"BadFixedHeaderFlags", mqtttest.Cat([]byte{0x11}, valid(nil)[1:]), -1},
		{"AuthenticationMethod", valid(func(_ *byte, p *[]byte) { *p = mqtttest.Props(mqtttest.Cat([]byte{0x15}, mqtttest.Str("SCRAM-SHA-1"))) }), 0x8c},
		{"ConnectOver8KiB", mqtttest.Cat([]byte{0x10}, mqtttest.VBI(9000)), 0x95},
		{"Connect256MiB", []byte{0x10, 0xff, 0xff, 0xff, 0x7f}, 0x95},
	}
	baseline := goroutines()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mqtttest.Dial(t, s.MQTTAddr)
			c.Send(t, tt.send)
			if tt.want == 0 {
				if h, body := c.MustRead(t); h != 0x20 || body[1] != 0 {
					t.Fatalf("CONNACK % x, want success", body)
				}
				return
			}
			got, err := c.ClosedAfter()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("refused with 0x%02x, want 0x%02x", got, tt.want)
			}
		})
	}
	if st := s.Responder.Stats(); st.Recovered != 0 {
		t.Fatalf("%d panics", st.Recovered)
	}
	goroutinesBack(t, baseline+2) // the valid CONNECT's session may still be ending
}
