package responder

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/session"
)

// BenchmarkRequestPath measures what a cache hit costs the responder on the
// device's goroutine: parse topic, properties and payload, look up, encode
// the reply and build its packet. The catalog's own lookup is measured by
// the catalog benchmarks; here it is a map.
func BenchmarkRequestPath(b *testing.B) {
	recipe, _ := json.Marshal(map[string]any{"id": "tomato-soup", "title": "Tomato soup", "steps": make([]int, 40)})
	cat := benchCatalog{"tomato-soup": {ETag: "0123456789abcdef", Data: recipe}}
	r := New(cat, Options{RequestRate: 1e12, RequestBurst: 1 << 30})
	d := r.devices.Session("oven-1", func() *session.Device { return session.NewDevice("oven-1", &r.sessions) })
	d.Subscribe(session.Subscription{Filter: "devices/oven-1/#", QoS: 1})
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish},
		TopicName:   "recipes/soups/tomato-soup",
		Origin:      "oven-1",
		Payload:     []byte(`{"limit":20}`),
		Properties: packets.Properties{
			ResponseTopic:   "devices/oven-1/replies",
			CorrelationData: []byte("0123456789abcdef"),
			ContentType:     "application/json",
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		r.handleRequest(nil, packets.Subscription{}, pk)
	}
	// The device is offline, so QoS 0 replies are built and then dropped.
	if got := r.Stats().Undeliverable; got == 0 {
		b.Fatal("no reply was built")
	}
}

type benchCatalog map[string]recipes.Document

func (c benchCatalog) FindCached(q recipes.Query) (recipes.Document, error) {
	if doc, ok := c[q.RecipeID]; ok {
		return doc, nil
	}
	return recipes.Document{}, recipes.Errorf(recipes.ENOTFOUND, "recipe %q not found", q.RecipeID)
}

func (c benchCatalog) Find(_ context.Context, q recipes.Query) (recipes.Document, error) {
	return c.FindCached(q)
}

// BenchmarkPacketSize measures the 413 check every reply to a device with
// a Maximum Packet Size passes (BenchmarkRequestPath's device declares
// none).
func BenchmarkPacketSize(b *testing.B) {
	r := New(nil, Options{})
	req := &request{responseTopic: "devices/oven-1/replies", correlation: []byte("0123456789abcdef"), qos: 1, language: "de"}
	pk := r.replyPacket(req, StatusOK, make([]byte, 2000), 1)
	pk.Properties.SubscriptionIdentifier = []int{7}
	n := 0
	for b.Loop() {
		n += packetSize(pk)
	}
	if n == 0 {
		b.Fatal("no size")
	}
}
