// Package web holds the admin UI's templates and static assets, embedded in
// the binary so that the server needs no files beside it.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
)

// FS holds templates/ and static/.
//
//go:embed templates static
var FS embed.FS

// ParseTemplates parses every template at startup, so that a broken
// template stops the program before it serves anything.
func ParseTemplates() (*template.Template, error) {
	t, err := template.New("").ParseFS(FS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	return t, nil
}

// Static returns the static assets rooted at static/.
func Static() fs.FS {
	sub, err := fs.Sub(FS, "static")
	if err != nil {
		panic(err) // static/ is embedded above; this cannot fail
	}
	return sub
}
