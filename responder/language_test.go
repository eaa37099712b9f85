package responder_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// The appliance client connects with Request Problem Information 0 (paho
// sends it unless asked not to), the setting that makes mochi strip user
// properties: every content-language seen here survived it.

// recordingCatalog is the real catalog, noting the languages each query
// wanted; translate, if set, picks the language of every answer, as a
// catalog with translations does (the catalog's own choice is tested in
// package catalog).
type recordingCatalog struct {
	*catalog.Store
	translate func(q recipes.Query) string

	mu    sync.Mutex
	asked [][]string
}

func (c *recordingCatalog) note(q recipes.Query, doc recipes.Document, err error) (recipes.Document, error) {
	c.mu.Lock()
	c.asked = append(c.asked, slices.Clone(q.Languages))
	c.mu.Unlock()
	if err == nil && c.translate != nil {
		doc.Language = c.translate(q)
	}
	return doc, err
}

func (c *recordingCatalog) FindCached(q recipes.Query) (recipes.Document, error) {
	doc, err := c.Store.FindCached(q)
	return c.note(q, doc, err)
}

func (c *recordingCatalog) Find(ctx context.Context, q recipes.Query) (recipes.Document, error) {
	doc, err := c.Store.Find(ctx, q)
	return c.note(q, doc, err)
}

// last returns the languages of the latest query.
func (c *recordingCatalog) last() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.asked) == 0 {
		return []string{"(never asked)"}
	}
	return c.asked[len(c.asked)-1]
}

func serveRecording(t *testing.T, translate func(recipes.Query) string) (*testServer, *recordingCatalog) {
	t.Helper()
	rec := &recordingCatalog{translate: translate}
	s := mustServeWith(t, func(st *catalog.Store) responder.Catalog { rec.Store = st; return rec })
	return s, rec
}

// TestLanguagesReachTheStore: a query wants the request's accept-language
// tags, most preferred first and canonical, then the device's registered
// locale; a malformed accept-language is a 400 that says what is wrong.
func TestLanguagesReachTheStore(t *testing.T) {
	s, rec := serveRecording(t, nil)
	s.MustRegisterLocale(t, "austrian-oven", testModel, "de-at")
	at := s.MustDial(t, appliance.Options{ID: "austrian-oven"})
	plain := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	soup := firstRecipe(t, at, "soups")

	tests := []struct {
		name   string
		dev    *appliance.Client
		topic  string
		accept string
		want   []string
	}{
		{"LocaleOnly", at, "recipes/soups/" + soup, "", []string{"de-AT"}},
		{"AcceptThenLocale", at, "recipes/soups", "fr-ca, en;q=0.5, *;q=0.1", []string{"fr-CA", "en", "de-AT"}},
		{"Weights", at, "recipes/categories", "en;q=0.2, it", []string{"it", "en", "de-AT"}},
		{"NoLocale", plain, "recipes/soups/" + soup, "", nil},
		{"NoLocaleAccept", plain, "recipes/categories", "pt-br", []string{"pt-BR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.dev.Ask(ctx, appliance.Request{Topic: tt.topic, AcceptLang: tt.accept})
			if err != nil || r.Status != 200 {
				t.Fatalf("%v %v", r, err)
			}
			if diff := cmp.Diff(tt.want, rec.last()); diff != "" {
				t.Errorf("q.Languages (-want +got):\n%s", diff)
			}
			// Whatever the catalog serves, the property and the member agree.
			if r.ContentLang != r.Language {
				t.Errorf("content-language %q, envelope language %q", r.ContentLang, r.Language)
			}
		})
	}

	for _, accept := range []string{"de;q=x", "de,,fr!", strings.Repeat("de, ", 40) + "de"} {
		t.Run("ErrAcceptLanguage", func(t *testing.T) {
			r, err := at.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup, AcceptLang: accept})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != 400 || r.StatusProp != "400" || r.Error == nil || !strings.Contains(r.Error.Message, "accept-language") {
				t.Fatalf("accept-language %q: %s, want 400 naming accept-language", accept, r)
			}
			if r.ContentLang != "" {
				t.Errorf("a 400 carries content-language %q", r.ContentLang)
			}
		})
	}
}

// TestContentLanguage: a 200 and a 304 name the language they carry, in
// the content-language user property and in the envelope right after
// "etag"; a reply from a catalog that names no language has neither.
func TestContentLanguage(t *testing.T) {
	// A catalog that has German, and English as its default.
	s, _ := serveRecording(t, func(q recipes.Query) string {
		return recipes.PickLanguage(q.Languages, func(tag string) bool { return tag == "de" }, "en")
	})
	s.MustRegisterLocale(t, "austrian-oven", testModel, "de-AT")
	dev := s.MustDial(t, appliance.Options{ID: "austrian-oven"})
	ctx := testContext(t, 5*time.Second)
	soup := firstRecipe(t, dev, "soups")
	topic := "recipes/soups/" + soup

	for _, tt := range []struct{ name, accept, want string }{
		{"FromLocale", "", "de"},        // de-AT falls back to de
		{"AcceptMissing", "fr", "de"},   // no French: the locale comes next
		{"AcceptOverrides", "en", "en"}, // asked for: the default
	} {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			r, err := dev.Ask(ctx, appliance.Request{Topic: topic, AcceptLang: tt.accept})
			if err != nil || r.Status != 200 {
				t.Fatalf("%v %v", r, err)
			}
			if r.ContentLang != want || r.Language != want {
				t.Fatalf("content-language %q, language %q; want %q", r.ContentLang, r.Language, want)
			}
			head := `{"status":200,"etag":"` + r.ETag + `","language":"` + want + `","data":{`
			if !bytes.HasPrefix(r.Payload, []byte(head)) {
				t.Fatalf("payload starts %.120s, want %s", r.Payload, head)
			}
			again, err := dev.Ask(ctx, appliance.Request{Topic: topic, AcceptLang: tt.accept, IfNoneMatch: r.ETag})
			if err != nil {
				t.Fatal(err)
			}
			if got, body := again.ContentLang, `{"status":304,"etag":"`+r.ETag+`","language":"`+want+`"}`; again.Status != 304 || got != want || string(again.Payload) != body {
				t.Fatalf("304: content-language %q, payload %s; want %q and %s", got, again.Payload, want, body)
			}
		})
	}
	t.Run("ErrorsNameNoLanguage", func(t *testing.T) {
		r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/no-such-soup"})
		if err != nil || r.Status != 404 {
			t.Fatalf("%v %v", r, err)
		}
		if r.ContentLang != "" || r.Language != "" {
			t.Fatalf("404 with content-language %q, language %q", r.ContentLang, r.Language)
		}
	})
}
