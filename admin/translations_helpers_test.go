package admin_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
)

var (
	inputTag     = regexp.MustCompile(`<input [^>]*>`)
	attr         = regexp.MustCompile(`([a-z_-]+)(?:="([^"]*)")?`)
	textareas    = regexp.MustCompile(`(?s)<textarea [^>]*name="([^"]+)"[^>]*>(.*?)</textarea>`)
	selects      = regexp.MustCompile(`(?s)<select [^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected>`)
	missingTotal = regexp.MustCompile(`(\d+) recipes? lacks? de`)
	translateDE  = regexp.MustCompile(`href="/recipes/([^/"]+)/translations/de"`)
)

// formValues returns what a browser would submit from the rendered page's
// forms, roughly: named inputs (ticked checkboxes only, none disabled),
// textareas, and each select's selected option; no _csrf.
func formValues(body string) url.Values {
	f := url.Values{}
	for _, tag := range inputTag.FindAllString(body, -1) {
		a := map[string]string{}
		for _, m := range attr.FindAllStringSubmatch(strings.TrimPrefix(tag, "<input "), -1) {
			a[m[1]] = html.UnescapeString(m[2])
		}
		_, checked := a["checked"]
		_, disabled := a["disabled"]
		if a["name"] == "" || a["name"] == "_csrf" || disabled || (a["type"] == "checkbox" && !checked) {
			continue
		}
		f.Add(a["name"], a["value"])
	}
	for _, m := range textareas.FindAllStringSubmatch(body, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range selects.FindAllStringSubmatch(body, -1) {
		f.Set(m[1], html.UnescapeString(m[2]))
	}
	return f
}
