package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
)

// replyPreview is the body of GET /api/recipes/:id/preview.
type replyPreview struct {
	Version       string `json:"version"`
	Payload       string `json:"payload"`
	Size          int    `json:"size"`
	MaxPacketSize int    `json:"max_packet_size"`
	Refused       bool   `json:"refused"`
}

// TestPreviewIsWhatAppliancesReceive compares the editors' preview with
// what registered appliances receive over MQTT for the same recipe: the
// same payload bytes for the models it suits, 404 for the others, and
// 413 where the preview warns of it.
func TestPreviewIsWhatAppliancesReceive(t *testing.T) {
	const max = 1650 // teriyaki-chicken-rice's reply is larger, the pears' smaller
	s := MustRunMain(t, func(c *Config) { c.MaxPacketSize = max })
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: s.MustToken(t, w, "preview", recipes.ScopeCatalog)}
	ctx := testContext(t, 30*time.Second)

	// dial connects a new device of model declaring the Maximum Packet
	// Size maxPacket (0: none).
	dial := func(t *testing.T, model string, maxPacket uint32) *appliance.Client {
		id := fmt.Sprintf("preview-%d", deviceSeq.Add(1))
		return s.MustDial(t, appliance.Options{ID: id, Password: s.MustRegister(t, id, model), MaxPacketSize: maxPacket})
	}
	ask := func(t *testing.T, dev *appliance.Client, topic string) *appliance.Reply {
		t.Helper()
		r, err := dev.Ask(ctx, appliance.Request{Topic: topic, Correlation: []byte("0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	previewOf := func(t *testing.T, dev *appliance.Client, id, model, version string, status int) replyPreview {
		t.Helper()
		q := url.Values{"model": {model}, "version": {version}, "response_topic": {dev.ReplyTopic()}, "correlation_bytes": {"16"}}
		return webtest.DecodeJSON[replyPreview](t, api.Call("GET", "/api/recipes/"+id+"/preview?"+q.Encode(), nil).Want(status))
	}

	t.Run("OK", func(t *testing.T) {
		tests := []struct {
			topic, model string
			status       int
		}{
			{"recipes/desserts/red-wine-poached-pears", "CM-200", 200},
			{"recipes/desserts/red-wine-poached-pears", "CM-300", 200},
			{"recipes/main-dishes/beef-stroganoff", "CM-300X", 200},
			{"recipes/main-dishes/beef-stroganoff", "CM-200", 404}, // it does not suit the model
		}
		for _, tt := range tests {
			dev := dial(t, tt.model, 0)
			got := ask(t, dev, tt.topic)
			id := tt.topic[strings.LastIndexByte(tt.topic, '/')+1:]
			p := previewOf(t, dev, id, tt.model, "published", tt.status)
			if got.Status != tt.status {
				t.Fatalf("%s on %s: status %d, want %d", tt.model, tt.topic, got.Status, tt.status)
			}
			if tt.status == 200 && p.Payload != string(got.Payload) {
				t.Fatalf("%s on %s: the device received\n%s\nthe preview shows\n%s", tt.model, tt.topic, got.Payload, p.Payload)
			}
		}
	})

	t.Run("TooLarge", func(t *testing.T) {
		// A device that declares the server's Maximum Packet Size as its own.
		for _, tt := range []struct {
			topic  string
			status int
		}{
			{"recipes/main-dishes/teriyaki-chicken-rice", 413},
			{"recipes/desserts/red-wine-poached-pears", 200},
		} {
			dev := dial(t, "CM-300X", max)
			got := ask(t, dev, tt.topic)
			id := tt.topic[strings.LastIndexByte(tt.topic, '/')+1:]
			p := previewOf(t, dev, id, "CM-300X", "published", 200)
			if got.Status != tt.status || p.Refused != (tt.status == 413) || p.MaxPacketSize != max {
				t.Fatalf("%s: the device got %d; the preview says refused=%v against %d (%d bytes)", id, got.Status, p.Refused, p.MaxPacketSize, p.Size)
			}
		}
		w.Get("/recipes/teriyaki-chicken-rice?preview_model=CM-300X").Want(200).
			Has(t, "of 1,650 bytes", "Too large: a device with the default Maximum Packet Size of 1,650 bytes gets status 413")
	})

	t.Run("DraftDiffers", func(t *testing.T) {
		r, _, err := s.Store.EditorRecipe(context.Background(), "red-wine-poached-pears")
		if err != nil {
			t.Fatal(err)
		}
		r.Title = "Pears, not yet published"
		if _, err := s.Store.SaveRecipe(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		dev := dial(t, "CM-200", 0)
		got := ask(t, dev, "recipes/desserts/red-wine-poached-pears")
		pub := previewOf(t, dev, "red-wine-poached-pears", "CM-200", "published", 200)
		draft := previewOf(t, dev, "red-wine-poached-pears", "CM-200", "draft", 200)
		if pub.Payload != string(got.Payload) || strings.Contains(pub.Payload, "not yet published") {
			t.Fatalf("published preview\n%s\nthe device received\n%s", pub.Payload, got.Payload)
		}
		if draft.Payload == pub.Payload || !strings.Contains(draft.Payload, `"title":"Pears, not yet published"`) {
			t.Fatalf("draft preview %s; want the unpublished title", draft.Payload)
		}
	})
}
