package admin_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/internal/webtest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// testPreviews is what cmd/recipesd gives admin: the catalog, and a
// responder (not started: previews send nothing) building the replies.
type testPreviews struct {
	*catalog.Store
	replies *responder.Responder
}

var _ admin.Previews = testPreviews{}

// newTestPreviews previews replies against a server Maximum Packet Size
// of max (0: the responder's default).
func newTestPreviews(cat *catalog.Store, max uint32) testPreviews {
	return testPreviews{cat, responder.New(cat, responder.Options{MaxPacketSize: max})}
}

func (p testPreviews) Reply(doc recipes.Document, to admin.ReplyTo) (admin.Reply, error) {
	r, err := p.replies.PreviewReply(doc, responder.ReplyTo{
		ResponseTopic: to.ResponseTopic, CorrelationLen: to.CorrelationLen, QoS: to.QoS, MaxPacketSize: uint32(to.MaxPacketSize)})
	if err != nil {
		return admin.Reply{}, err
	}
	out := admin.Reply{Payload: r.Payload, ContentType: r.ContentType, PayloadFormat: r.PayloadFormat,
		MessageExpiry: int(r.MessageExpiry), QoS: r.QoS, PacketSize: r.PacketSize, MaxPacketSize: int(r.MaxPacketSize), Refused: r.Refused}
	for _, u := range r.User {
		out.User = append(out.User, admin.UserProperty{Key: u.Key, Value: u.Value})
	}
	return out, nil
}

// preview is the body of GET /api/recipes/:id/preview.
type preview struct {
	Version, Model, Language string
	Status                   int
	Payload                  string
	PayloadSize              int                  `json:"payload_size"`
	Size                     int                  `json:"size"`
	MaxPacketSize            int                  `json:"max_packet_size"`
	Refused                  bool                 `json:"refused"`
	UserProperties           []admin.UserProperty `json:"user_properties"`
}

// envelopeData is the recipe in a 200 reply's payload (PROTOCOL.md §3).
func envelopeData(tb testing.TB, payload string) recipes.Recipe {
	tb.Helper()
	var env struct {
		Status int
		ETag   string
		Data   recipes.Recipe
	}
	if err := json.Unmarshal([]byte(payload), &env); err != nil || env.Status != 200 || env.ETag == "" {
		tb.Fatalf("payload %s: %v; want a 200 envelope", payload, err)
	}
	return env.Data
}

func TestRecipePreviewAPI(t *testing.T) {
	s := MustStartServer(t)
	w := s.MustSignIn(t)
	api := &webtest.API{W: s.NewWebClient(t), Token: webtest.MustToken(t, w, "preview", recipes.ScopeCatalog)}
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		for _, model := range []string{"CM-200", "CM-300"} {
			p := webtest.DecodeJSON[preview](t, api.Call("GET", "/api/recipes/teriyaki-chicken-rice/preview?model="+model, nil).Want(200))
			doc, err := s.Store.Find(ctx, recipes.Query{Category: "main-dishes", RecipeID: "teriyaki-chicken-rice", Model: model})
			if err != nil {
				t.Fatal(err)
			}
			want := `{"status":200,"etag":"` + doc.ETag + `","language":"` + doc.Language + `","data":` + string(doc.Data) + `}`
			if p.Version != "published" || p.Model != model || p.Payload != want || p.PayloadSize != len(want) {
				t.Fatalf("%s: preview %+v\nwant payload %s", model, p, want)
			}
			if p.Size <= p.PayloadSize || p.MaxPacketSize != 256<<10 || p.Refused {
				t.Fatalf("%s: size %d of %d (refused %v); want more than the payload, of the default 256 KiB", model, p.Size, p.MaxPacketSize, p.Refused)
			}
			if len(p.UserProperties) == 0 || p.UserProperties[0] != (admin.UserProperty{Key: "status", Value: "200"}) {
				t.Fatalf("user properties %+v", p.UserProperties)
			}
		}
	})
	t.Run("DraftDiffers", func(t *testing.T) {
		r, _, err := s.Store.EditorRecipe(ctx, "potato-gnocchi")
		if err != nil {
			t.Fatal(err)
		}
		r.Title = "Gnocchi, changed"
		if _, err := s.Store.SaveRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
		pub := webtest.DecodeJSON[preview](t, api.Call("GET", "/api/recipes/potato-gnocchi/preview?model=CM-200&version=published", nil).Want(200))
		draft := webtest.DecodeJSON[preview](t, api.Call("GET", "/api/recipes/potato-gnocchi/preview?model=CM-200&version=draft", nil).Want(200))
		if got := envelopeData(t, pub.Payload).Title; got == "Gnocchi, changed" {
			t.Fatalf("the published preview shows the unpublished title")
		}
		if got := envelopeData(t, draft.Payload).Title; got != "Gnocchi, changed" {
			t.Fatalf("the draft preview shows %q", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		r, _, err := s.Store.EditorRecipe(ctx, "beef-stroganoff")
		if err != nil {
			t.Fatal(err)
		}
		r.ID = "beef-stroganoff-draft"
		if _, err := s.Store.CreateRecipe(ctx, r); err != nil {
			t.Fatal(err)
		}
		tests := []struct{ path, msg string }{
			{"/api/recipes/beef-stroganoff/preview?model=CM-100", `recipe "beef-stroganoff" (published version) does not suit model CM-100`},
			{"/api/recipes/beef-stroganoff/preview?model=CM-100&version=draft", `recipe "beef-stroganoff" (draft version) does not suit model CM-100`},
			{"/api/recipes/beef-stroganoff-draft/preview?model=CM-300X", `recipe "beef-stroganoff-draft" is not published`},
			{"/api/recipes/no-such-recipe/preview", `no-such-recipe`},
		}
		for _, tt := range tests {
			e := webtest.DecodeJSON[webtest.APIError](t, api.Call("GET", tt.path, nil).Want(404))
			if e.Error.Code != recipes.ENOTFOUND || !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("%s: %+v, want not_found %q", tt.path, e.Error, tt.msg)
			}
		}
		// The draft of the unpublished recipe is there for its model.
		api.Call("GET", "/api/recipes/beef-stroganoff-draft/preview?model=CM-300X&version=draft", nil).Want(200)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct{ query, msg string }{
			{"model=CM-999", `model "CM-999" is not a known appliance model`},
			{"lang=zz-9", `lang: "zz-9" is not a BCP 47 language tag`},
			{"version=latest", `version "latest": must be published or draft`},
			{"correlation_bytes=257", `correlation_bytes must be a whole number between 0 and 256`},
			{"qos=3", `qos must be a whole number between 0 and 2`},
			{"response_topic=" + url.QueryEscape("devices/x/+"), `response topic "devices/x/+"`},
		}
		for _, tt := range tests {
			e := webtest.DecodeJSON[webtest.APIError](t, api.Call("GET", "/api/recipes/beef-stroganoff/preview?"+tt.query, nil).Want(400))
			if !strings.Contains(e.Error.Message, tt.msg) {
				t.Errorf("%s: %q, want %q", tt.query, e.Error.Message, tt.msg)
			}
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		devices := &webtest.API{W: api.W, Token: webtest.MustToken(t, w, "preview-devices", recipes.ScopeDevices)}
		devices.Call("GET", "/api/recipes/beef-stroganoff/preview", nil).Want(403)
	})
}

func TestRecipePreviewCard(t *testing.T) {
	s := MustStartServer(t, func(o *admin.Options) {
		// A limit the longest demo recipes exceed, and the shorter fit.
		o.Previews = newTestPreviews(o.Previews.(testPreviews).Store, 1650)
	})
	w := s.MustSignIn(t)

	t.Run("OK", func(t *testing.T) {
		p := w.Get("/recipes/red-wine-poached-pears?preview_model=CM-200&preview_lang=en").Want(200)
		for _, id := range []string{`id="preview-published-json"`, `id="preview-draft-json"`, `id="preview-published-size"`, `<option value="CM-200" selected>`} {
			if !strings.Contains(p.Body, id) {
				t.Fatalf("no %s on the page:\n%s", id, webtest.Excerpt(p.Body))
			}
		}
		p.Has(t, "What appliances get now", "After you publish", `"id": "red-wine-poached-pears"`, "of 1,650 bytes")
		if strings.Contains(p.Body, "preview-published-warning") {
			t.Fatal("a reply within the limit is flagged")
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		p := w.Get("/recipes/teriyaki-chicken-rice?preview_model=CM-200").Want(200)
		if !strings.Contains(p.Body, `id="preview-published-warning"`) || !strings.Contains(p.Body, `id="preview-draft-warning"`) {
			t.Fatalf("no 413 warning:\n%s", webtest.Excerpt(p.Body))
		}
		p.Has(t, "Too large", "gets status 413")
	})
	t.Run("Unsuited", func(t *testing.T) {
		w.Get("/recipes/beef-stroganoff?preview_model=CM-100").Want(200).
			Has(t, "Does not suit the CM-100: appliances of this model get 404 for this recipe.")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		p := w.Get("/recipes/beef-stroganoff?preview_model=CM-999&preview_lang=x_y").Want(200)
		if !strings.Contains(p.Body, `id="preview-error"`) {
			t.Fatalf("no preview error:\n%s", webtest.Excerpt(p.Body))
		}
		p.Has(t, `model "CM-999" is not a known appliance model`)
	})
}
