package responder

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/recipes"
)

var testTime = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestEncodeReplies(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want map[string]any
	}{
		{"OK", encodeDocument(recipes.Document{ETag: "0123abcd", Data: json.RawMessage(`{"items":[]}`)}),
			map[string]any{"status": 200.0, "etag": "0123abcd", "data": map[string]any{"items": []any{}}}},
		{"NotModified", encodeNotModified("0123abcd", ""), map[string]any{"status": 304.0, "etag": "0123abcd"}},
		{"Error", encodeError(404, `recipe "x" not found in category "soups"`),
			map[string]any{"status": 404.0, "error": map[string]any{"code": "not_found", "message": `recipe "x" not found in category "soups"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			if err := json.Unmarshal(tt.body, &got); err != nil {
				t.Fatalf("reply %s is not JSON: %v", tt.body, err)
			}
			if g, w := mustJSON(t, got), mustJSON(t, tt.want); g != w {
				t.Fatalf("reply = %s, want %s", g, w)
			}
		})
	}
}

// TestEncodeRepliesLanguage pins the envelope byte for byte: "language"
// right after "etag", and absent for a document in no named language.
func TestEncodeRepliesLanguage(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"OK", encodeDocument(recipes.Document{ETag: "0123abcd", Language: "de", Data: json.RawMessage(`{"items":[]}`)}),
			`{"status":200,"etag":"0123abcd","language":"de","data":{"items":[]}}`},
		{"OKNoLanguage", encodeDocument(recipes.Document{ETag: "0123abcd", Data: json.RawMessage(`{"items":[]}`)}),
			`{"status":200,"etag":"0123abcd","data":{"items":[]}}`},
		{"NotModified", encodeNotModified("0123abcd", "zh-Hant-TW"), `{"status":304,"etag":"0123abcd","language":"zh-Hant-TW"}`},
		{"NotModifiedNoLanguage", encodeNotModified("0123abcd", ""), `{"status":304,"etag":"0123abcd"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Fatalf("reply = %s, want %s", tt.got, tt.want)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPacketSizeIsExact pins packetSize to the bytes mochi writes: the
// 413 decision must neither let through a packet the device would refuse
// nor refuse one that fits exactly (MQTT 5 §3.1.2.11.4). Every kind of
// reply, at both QoS, with and without Correlation Data and Subscription
// Identifiers, around each point where a Variable Byte Integer (the
// remaining length, the property length) grows by a byte.
func TestPacketSizeIsExact(t *testing.T) {
	r := New(nil, Options{})
	now := testTime.Unix()
	kinds := []struct {
		name   string
		status int
		lang   string
		retry  int
	}{
		{"OK", StatusOK, "", 0},
		{"OKLanguage", StatusOK, "zh-Hant-TW", 0},
		{"NotModifiedLanguage", StatusNotModified, "de", 0},
		{"Error", StatusNotFound, "de", 0}, // no content-language on errors
		{"TooMany", StatusTooManyRequests, "", 0},
		{"TooManyRetryAfter", StatusTooManyRequests, "", 30},
	}
	topics := []string{
		"devices/o/r",
		"devices/oven-1/replies",
		"devices/oven-1/" + strings.Repeat("t", 120),   // topic alone crosses 127
		"devices/oven-1/" + strings.Repeat("t", 16370), // and 16383
	}
	// Remaining lengths on either side of each Variable Byte Integer step;
	// the last step (2 MiB payloads) only for some replies, which is
	// enough for arithmetic and keeps the test quick under -race.
	small := []int{127, 128, 16383, 16384}
	all := append(small, 2097151, 2097152)
	checked := 0
	for _, k := range kinds {
		for _, topic := range topics {
			for _, corr := range []int{0, 1, 16, 110, MaxCorrelationData} {
				for _, qos := range []byte{0, 1} {
					for _, subIDs := range [][]int{nil, {1}, {200, 268435455}} {
						req := &request{responseTopic: topic, qos: qos, language: k.lang, retryAfter: k.retry}
						if corr > 0 {
							req.correlation = make([]byte, corr)
						}
						shaped := func(payload []byte) *packets.Packet {
							pk := r.replyPacket(req, k.status, payload, now)
							pk.Properties.SubscriptionIdentifier = subIDs
							return pk
						}
						rem0 := remainingLen(mustWireSize(t, shaped(nil), now))
						// payload length, and the remaining length it must give (0: any)
						type sized struct{ n, rem int }
						payloads := []sized{{0, 0}, {1, 0}, {1000, 0}, {70000, 0}}
						remainings := small
						if k.name == "OK" && corr == 16 {
							remainings = all
						}
						for _, rem := range remainings {
							if n := rem - rem0; n >= 0 {
								payloads = append(payloads, sized{n, rem})
							}
						}
						for _, p := range payloads {
							n := p.n
							pk := shaped(make([]byte, n))
							got, want := packetSize(pk), mustWireSize(t, pk, now)
							if p.rem > 0 && remainingLen(want) != p.rem {
								t.Fatalf("payload %d gives a remaining length of %d, want %d", n, remainingLen(want), p.rem)
							}
							if got != want {
								t.Errorf("%s, topic %d bytes, correlation %d, QoS %d, subscription ids %v, payload %d: packetSize %d, mochi writes %d",
									k.name, len(topic), corr, qos, subIDs, n, got, want)
							}
							checked++
						}
					}
				}
			}
		}
	}
	t.Logf("%d packets measured", checked)
}

// remainingLen is the Remaining Length of a packet of size bytes.
func remainingLen(size int) int {
	for n := 1; ; n++ {
		if rem := size - 1 - n; len(mqtttest.VBI(rem)) == n {
			return rem
		}
	}
}

// mustWireSize encodes pk as mochi's WritePacket does for an MQTT 5
// device and returns its length.
func mustWireSize(t *testing.T, pk *packets.Packet, now int64) int {
	t.Helper()
	n, err := wireSize(*pk, now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPacketSizeOfCommands does the same for the commands of Call.
func TestPacketSizeOfCommands(t *testing.T) {
	now := testTime.Unix()
	for _, n := range []int{0, 60, 100, 16300, 16400} {
		pk := &packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1},
			TopicName:   rpcRequestTopic("oven-1"),
			Payload:     make([]byte, n),
			Properties: packets.Properties{
				ContentType: "application/json", PayloadFormat: 1, PayloadFormatFlag: true,
				ResponseTopic: rpcResponseTopic("oven-1"), CorrelationData: make([]byte, 16),
				SubscriptionIdentifier: []int{7},
			},
			Expiry: now + 30,
		}
		if got, want := packetSize(pk), mustWireSize(t, pk, now); got != want {
			t.Errorf("command with %d bytes of params: packetSize %d, mochi writes %d", n, got, want)
		}
	}
}
