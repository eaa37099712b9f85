package webtest

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// Page is one response.
type Page struct {
	tb       testing.TB
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// Want fails the test unless the page has the status.
func (p *Page) Want(status int) *Page {
	p.tb.Helper()
	if p.Status != status {
		p.tb.Fatalf("status %d, want %d; location %q; body:\n%s", p.Status, status, p.Location, Excerpt(p.Body))
	}
	return p
}

// Excerpt returns the main part of a page, cut short, for a failure message.
func Excerpt(s string) string {
	if i := strings.Index(s, "<main>"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return s
}

var tags = regexp.MustCompile(`(?s)<head>.*</head>|<[^>]*>`)

// Text returns the page's visible text, roughly: tags dropped, entities
// decoded, white space collapsed.
func (p *Page) Text() string {
	s := tags.ReplaceAllString(p.Body, " ")
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

// Has fails the test unless the visible text contains each of want.
func (p *Page) Has(tb testing.TB, want ...string) *Page {
	tb.Helper()
	text := p.Text()
	for _, w := range want {
		if !strings.Contains(text, w) {
			tb.Fatalf("page lacks %q; text:\n%s", w, text)
		}
	}
	return p
}

var (
	nextField  = regexp.MustCompile(` name="[^"]+"`)
	fieldError = regexp.MustCompile(`(?s)<p class="field-error"[^>]*>(.*?)</p>`)
	flash      = regexp.MustCompile(`(?s)<div class="flash[^"]*" role="status">(.*?)</div>`)
)

// FieldError returns the error message shown next to the form field
// named field: the paragraph with the id field+"-error", or else the first
// field-error paragraph after the field and before the next field.
func (p *Page) FieldError(field string) string {
	if m := regexp.MustCompile(`(?s)<p class="field-error" id="` + regexp.QuoteMeta(field) + `-error">(.*?)</p>`).FindStringSubmatch(p.Body); m != nil {
		return html.UnescapeString(m[1])
	}
	i := strings.Index(p.Body, `name="`+field+`"`)
	if i < 0 {
		i = strings.Index(p.Body, `id="`+field+`"`)
	}
	if i < 0 {
		return ""
	}
	rest := p.Body[i+len(field):]
	if next := nextField.FindStringIndex(rest); next != nil {
		rest = rest[:next[0]]
	}
	m := fieldError.FindStringSubmatch(rest)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// Flash returns the flash message shown, if any.
func (p *Page) Flash() string {
	m := flash.FindStringSubmatch(p.Body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}
