package responder

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

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

// TestPacketSizeIsUpperBound pins packetSize to mochi's real encoding: the
// 413 decision must never let through a packet the device would refuse.
func TestPacketSizeIsUpperBound(t *testing.T) {
	r := New(nil, Options{})
	for _, n := range []int{0, 10, 200, 5000, 70000} {
		req := &request{responseTopic: "devices/oven-1/replies", correlation: make([]byte, n%257), qos: 1, language: "zh-Hant-TW"}
		pk := r.replyPacket(req, 200, make([]byte, n), testTime.Unix())
		pk.PacketID = 1
		pk.ProtocolVersion = 5
		pk.Properties.SubscriptionIdentifier = []int{268435455}
		pk.Properties.MessageExpiryInterval = 60
		var buf bytes.Buffer
		if err := pk.PublishEncode(&buf); err != nil {
			t.Fatal(err)
		}
		if got, bound := buf.Len(), packetSize(pk); got > bound {
			t.Fatalf("payload %d: encoded %d bytes > bound %d", n, got, bound)
		}
	}
}
