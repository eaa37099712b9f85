// Package webtest drives the admin server over real HTTP in tests, as a
// browser without JavaScript would, and in a real headless Chromium. The
// admin package's tests and the end-to-end tests of cmd/recipesd share it.
package webtest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Client is a browser without JavaScript: it keeps cookies, does not
// follow redirects, and puts the CSRF token into every form it posts.
type Client struct {
	TB   testing.TB
	Base *url.URL
	HTTP *http.Client
}

// NewClient returns a client of the server at base, such as
// "http://127.0.0.1:8080".
func NewClient(tb testing.TB, base string) *Client {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	return &Client{TB: tb, Base: u, HTTP: &http.Client{
		Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// SignIn opens the sign-in page, for its CSRF cookie, and signs in.
func (w *Client) SignIn(name, password string) *Page {
	w.TB.Helper()
	w.Get("/login").Want(200)
	return w.Post("/login", url.Values{"name": {name}, "password": {password}})
}

// Do sends req and reads the whole response.
func (w *Client) Do(req *http.Request) *Page {
	w.TB.Helper()
	resp, err := w.HTTP.Do(req)
	if err != nil {
		w.TB.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		w.TB.Fatal(err)
	}
	return &Page{tb: w.TB, Status: resp.StatusCode, Header: resp.Header, Body: string(b), Location: resp.Header.Get("Location")}
}

// Get gets path.
func (w *Client) Get(path string) *Page {
	w.TB.Helper()
	req, err := http.NewRequest(http.MethodGet, w.Base.String()+path, nil)
	if err != nil {
		w.TB.Fatal(err)
	}
	return w.Do(req)
}

// Post posts form with the CSRF token of the client's cookie.
func (w *Client) Post(path string, form url.Values) *Page {
	w.TB.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("_csrf") {
		form.Set("_csrf", w.Cookie("recipesd_csrf"))
	}
	return w.PostRaw(path, form, nil)
}

// PostRaw posts form as it is, with extra headers.
func (w *Client) PostRaw(path string, form url.Values, header http.Header) *Page {
	w.TB.Helper()
	req, err := http.NewRequest(http.MethodPost, w.Base.String()+path, strings.NewReader(form.Encode()))
	if err != nil {
		w.TB.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return w.Do(req)
}

// Cookie returns the value of the client's cookie name ("" if none).
func (w *Client) Cookie(name string) string {
	for _, c := range w.HTTP.Jar.Cookies(w.Base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
