package responder_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/redistest"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// These tests speak PROTOCOL.md over real TCP with paho.golang as an
// appliance would, against the whole program with the demo catalog.

func TestReplyProperties(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	corr := []byte{0x00, 0xff, 0x10, 0x80, 'r', 'e', 'q', 0x00}

	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories", Correlation: corr})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Status, 200; got != want {
		t.Fatalf("status = %d, want %d: %s", got, want, r)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"topic", r.Topic, dev.ReplyTopic()},
		{"correlation", string(r.Correlation), string(corr)},
		{"content type", r.ContentType, "application/json"},
		{"payload format", derefByte(r.PayloadFormat), byte(1)},
		{"status property", r.StatusProp, "200"},
		{"qos", r.QoS, byte(1)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.MessageExpiry == nil || *r.MessageExpiry == 0 || *r.MessageExpiry > 60 {
		t.Errorf("message expiry = %v, want 1..60 s", r.MessageExpiry)
	}
	if r.ETag == "" {
		t.Error("etag missing")
	}
	var data struct {
		Items []recipes.Category `json:"items"`
	}
	if err := json.Unmarshal(r.Data, &data); err != nil || len(data.Items) < 8 {
		t.Fatalf("categories = %d (%v), want at least 8", len(data.Items), err)
	}
}

func TestReplyQoSFollowsRequest(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	for _, tt := range []struct{ req, want byte }{{0, 0}, {1, 1}, {2, 1}} {
		qos := tt.req
		r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories", QoS: &qos})
		if err != nil {
			t.Fatalf("QoS %d: %v", tt.req, err)
		}
		if r.QoS != tt.want || r.Status != 200 {
			t.Errorf("QoS %d request: reply QoS %d status %d, want QoS %d status 200", tt.req, r.QoS, r.Status, tt.want)
		}
	}
}

func TestNoCorrelationDataIsNotInvented(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	ch, _, err := dev.Send(ctx, appliance.Request{Topic: "recipes/categories", NoCorrelation: true})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		if r.Correlation != nil {
			t.Fatalf("correlation = %x, want absent", r.Correlation)
		}
	case <-ctx.Done():
		t.Fatal("no reply")
	}
}

// TestStatuses covers the rows of PROTOCOL.md's status table that a
// request alone can provoke.
func TestStatuses(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	soup := firstRecipe(t, dev, "soups")

	tests := []struct {
		name    string
		req     appliance.Request
		status  int
		message string // substring of error.message
	}{
		{"OKList", appliance.Request{Topic: "recipes/soups"}, 200, ""},
		{"OKRecipe", appliance.Request{Topic: "recipes/soups/" + soup}, 200, ""},
		{"OKLimit", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":1}`)}, 200, ""},
		{"OKUnknownFieldIgnored", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"colour":"red"}`)}, 200, ""},
		{"ErrPayloadNotObject", appliance.Request{Topic: "recipes/soups", Payload: []byte(`[1]`)}, 400, "JSON object"},
		{"ErrPayloadNotJSON", appliance.Request{Topic: "recipes/soups", Payload: []byte(`soup please`)}, 400, "JSON object"},
		{"ErrLimitZero", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":0}`)}, 400, "limit"},
		{"ErrLimitTooBig", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":101}`)}, 400, "limit"},
		{"ErrLimitString", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":"5"}`)}, 400, "limit"},
		{"ErrBadCursor", appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"cursor":"not-a-cursor!"}`)}, 400, "cursor"},
		{"ErrContentType", appliance.Request{Topic: "recipes/soups", ContentType: "text/plain"}, 400, "content type"},
		{"ErrCorrelationTooLong", appliance.Request{Topic: "recipes/soups", Correlation: bytes.Repeat([]byte{7}, 257)}, 400, "correlation"},
		{"ErrUnknownCategory", appliance.Request{Topic: "recipes/no-such-thing"}, 404, `category "no-such-thing" not found`},
		{"ErrUnknownRecipe", appliance.Request{Topic: "recipes/soups/no-such-soup"}, 404, `recipe "no-such-soup" not found in category "soups"`},
		{"ErrRecipeInOtherCategory", appliance.Request{Topic: "recipes/desserts/" + soup}, 404, `recipe "` + soup + `" not found in category "desserts"`},
		{"ErrTooDeep", appliance.Request{Topic: "recipes/soups/" + soup + "/steps"}, 404, "names no resource"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := dev.Ask(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.status || r.StatusProp != strconv.Itoa(tt.status) {
				t.Fatalf("status = %d (property %q), want %d: %s", r.Status, r.StatusProp, tt.status, r)
			}
			if tt.req.Correlation != nil && !bytes.Equal(r.Correlation, tt.req.Correlation) {
				t.Fatalf("correlation not echoed: %x", r.Correlation)
			}
			if tt.status >= 400 {
				if r.Error == nil || !strings.Contains(r.Error.Message, tt.message) || r.Error.Code == "" {
					t.Fatalf("error = %+v, want a code and a message containing %q", r.Error, tt.message)
				}
			}
		})
	}
}

func TestNotModified(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	soup := firstRecipe(t, dev, "soups")
	for _, topic := range []string{"recipes/categories", "recipes/soups", "recipes/soups/" + soup} {
		first, err := dev.Ask(ctx, appliance.Request{Topic: topic})
		if err != nil || first.Status != 200 {
			t.Fatalf("%s: %v %v", topic, first, err)
		}
		again, err := dev.Ask(ctx, appliance.Request{Topic: topic, IfNoneMatch: first.ETag})
		if err != nil {
			t.Fatal(err)
		}
		if again.Status != 304 || again.ETag != first.ETag || again.Data != nil {
			t.Fatalf("%s with if-none-match: %s, want 304 with etag %s and no data", topic, again, first.ETag)
		}
		stale, err := dev.Ask(ctx, appliance.Request{Topic: topic, IfNoneMatch: "0000000000000000"})
		if err != nil || stale.Status != 200 {
			t.Fatalf("%s with a stale etag: %v %v, want 200", topic, stale, err)
		}
	}
}

func TestTooLargeForDevice(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{MaxPacketSize: 1024})
	ctx := testContext(t, 5*time.Second)
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":100}`)})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 413 || !strings.Contains(r.Error.Message, "smaller limit") {
		t.Fatalf("reply = %s, want 413 asking for a smaller limit", r)
	}
	r, err = dev.Ask(ctx, appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"limit":1}`)})
	if err != nil || r.Status != 200 {
		t.Fatalf("small page: %v %v, want 200", r, err)
	}
}

func TestRateLimit(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.RequestRate, o.RequestBurst = 0.5, 3 })
	dev := s.MustDial(t, appliance.Options{})
	other := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	var statuses []int
	for range 5 {
		r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories"})
		if err != nil {
			t.Fatal(err)
		}
		statuses = append(statuses, r.Status)
	}
	if want := []int{200, 200, 200, 429, 429}; !equalInts(statuses, want) {
		t.Fatalf("statuses = %v, want %v", statuses, want)
	}
	if r, err := other.Ask(ctx, appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("another device is throttled too: %v %v", r, err)
	}
}

func TestInternalErrorIsTraced(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	soup := firstRecipe(t, dev, "soups")
	corruptRecipe(t, s, soup)
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 500 || !strings.Contains(r.Error.Message, "trace ") {
		t.Fatalf("reply = %s, want 500 naming a trace", r)
	}
}

func TestStoreDownAnswers503Fast(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	all, err := s.Catalog.EditorRecipes(ctx, "soups", recipes.RecipeFilter{Limit: recipes.MaxLimit})
	if err != nil || len(all.Items) < 2 {
		t.Fatal(all, err)
	}
	soup := all.Items[1].ID // never asked for, so not in memory
	s.Redis.Close()
	start := time.Now()
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); r.Status != 503 || took > time.Second {
		t.Fatalf("store down: %s after %v, want 503 within 1s", r, took)
	}
	if err := s.Redis.Restart(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup})
		if err == nil && r.Status == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the store came back: %v %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestStoreStallAnswers503Fast(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	redistest.Stall(t, s.Redis, 3*time.Second)
	start := time.Now()
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/breads"})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); r.Status != 503 || took > time.Second {
		t.Fatalf("store stalled: %s after %v, want 503 within 1s", r, took)
	}
}

func TestExpiredRequestIsNotAnswered(t *testing.T) {
	s := mustServe(t, func(o *responder.Options) { o.StoreTimeout = 4 * time.Second })
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	redistest.Stall(t, s.Redis, 2*time.Second)
	ch, _, err := dev.Send(ctx, appliance.Request{Topic: "recipes/desserts", MessageExpiry: 1})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ch:
		t.Fatalf("expired request answered: %s", r)
	case <-time.After(3 * time.Second):
	}
	if got := s.Responder.Stats().Expired; got != 1 {
		t.Fatalf("expired count = %d, want 1", got)
	}
}

func TestEditIsVisibleToNextRequest(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	soup := firstRecipe(t, dev, "soups")
	before, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup})
	if err != nil || before.Status != 200 {
		t.Fatal(before, err)
	}
	rec, _, err := s.Catalog.EditorRecipe(ctx, soup)
	if err != nil {
		t.Fatal(err)
	}
	rec.Title = "Edited " + rec.Title
	if _, err := s.Catalog.SaveRecipe(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Catalog.PublishRecipe(ctx, soup); err != nil {
		t.Fatal(err)
	}
	after, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/" + soup, IfNoneMatch: before.ETag})
	if err != nil {
		t.Fatal(err)
	}
	var got recipes.Recipe
	_ = json.Unmarshal(after.Data, &got)
	if after.Status != 200 || got.Title != rec.Title || after.ETag == before.ETag {
		t.Fatalf("after edit: status %d title %q etag %s (before %s), want 200 %q and a new etag",
			after.Status, got.Title, after.ETag, before.ETag, rec.Title)
	}
}

func TestPagingVisitsEveryRecipeOnce(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 10*time.Second)
	all, err := s.Catalog.EditorRecipes(ctx, "soups", recipes.RecipeFilter{Limit: recipes.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("paging does not end")
		}
		payload, _ := json.Marshal(map[string]any{"limit": 3, "cursor": cursor})
		r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups", Payload: payload})
		if err != nil || r.Status != 200 {
			t.Fatalf("page %d: %v %v", pages, r, err)
		}
		var page struct {
			Items []recipes.Summary `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(r.Data, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			seen[it.ID]++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(seen) != all.Total {
		t.Fatalf("paging saw %d recipes, the category has %d", len(seen), all.Total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("recipe %s seen %d times", id, n)
		}
	}
}

func TestTextFilter(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{})
	ctx := testContext(t, 5*time.Second)
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups", Payload: []byte(`{"q":"TOMATO","limit":100}`)})
	if err != nil || r.Status != 200 {
		t.Fatal(r, err)
	}
	var page struct{ Items []recipes.Summary }
	_ = json.Unmarshal(r.Data, &page)
	if len(page.Items) == 0 {
		t.Fatal("no soup matches \"tomato\"")
	}
	for _, it := range page.Items {
		if !strings.Contains(strings.ToLower(it.Title+" "+strings.Join(it.Tags, " ")), "tomato") {
			t.Errorf("%s (%q, tags %v) does not match \"tomato\"", it.ID, it.Title, it.Tags)
		}
	}
}

func TestResponseInformation(t *testing.T) {
	s := mustServe(t)
	dev := s.MustDial(t, appliance.Options{ID: "info-oven", RequestResponseInfo: true})
	if p := dev.Connack.Properties; p == nil || p.ResponseInfo != "devices/info-oven/" {
		t.Fatalf("CONNACK response information = %+v, want devices/info-oven/", p)
	}
}

func TestInvalidClientIDRefused(t *testing.T) {
	s := mustServe(t)
	for _, id := range []string{"a/b", "a+b", "x#", "$oven"} {
		ctx := testContext(t, 5*time.Second)
		c, err := appliance.Dial(ctx, appliance.Options{Addr: s.MQTTAddr, ID: id})
		if err == nil {
			_ = c.Close()
			t.Fatalf("client id %q accepted", id)
		}
		if c == nil || c.Connack == nil || c.Connack.ReasonCode != 0x85 {
			t.Fatalf("client id %q: %v, want CONNACK 0x85", id, err)
		}
	}
}

func firstRecipe(tb testing.TB, dev *appliance.Client, category string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/" + category, Payload: []byte(`{"limit":1}`)})
	if err != nil || r.Status != 200 {
		tb.Fatalf("list %s: %v %v", category, r, err)
	}
	var page struct{ Items []recipes.Summary }
	if err := json.Unmarshal(r.Data, &page); err != nil || len(page.Items) == 0 {
		tb.Fatalf("list %s: no items (%v)", category, err)
	}
	return page.Items[0].ID
}

func derefByte(b *byte) byte {
	if b == nil {
		return 0
	}
	return *b
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
