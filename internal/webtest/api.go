package webtest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/recipesd/recipesd/recipes"
)

// API calls the JSON API with a token ("" for none).
type API struct {
	W     *Client
	Token string
}

// Call sends body (nil, a string sent as it is, or a value sent as JSON)
// to path.
func (a *API) Call(method, path string, body any) *Page {
	a.W.TB.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		js, err := json.Marshal(b)
		if err != nil {
			a.W.TB.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, a.W.Base.String()+path, rd)
	if err != nil {
		a.W.TB.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.Token != "" {
		req.Header.Set("Authorization", "Bearer "+a.Token)
	}
	return a.W.Do(req)
}

// APIError is the body of an API error.
type APIError struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Fields  []recipes.FieldError `json:"fields"`
	} `json:"error"`
}

// DecodeJSON decodes a response body.
func DecodeJSON[T any](tb testing.TB, p *Page) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal([]byte(p.Body), &v); err != nil {
		tb.Fatalf("decode %s: %v", p.Body, err)
	}
	return v
}

var tokenSecret = regexp.MustCompile(`<code class="token" id="token-secret">([^<]+)</code>`)

// MustToken creates an API token in the UI, with w signed in, and returns
// its secret. It has the scopes given, or every scope.
func MustToken(tb testing.TB, w *Client, name string, scopes ...string) string {
	tb.Helper()
	if scopes == nil {
		scopes = recipes.AllScopes
	}
	p := w.Post("/tokens", url.Values{"name": {name}, "scope": scopes}).Want(200)
	m := tokenSecret.FindStringSubmatch(p.Body)
	if m == nil {
		tb.Fatalf("no secret on the page:\n%s", Excerpt(p.Body))
	}
	return m[1]
}

// RandomName returns a fresh slug-safe name.
func RandomName(prefix string) string { return prefix + "-" + strings.ToLower(rand.Text()[:8]) }
