package admin

import "net/http"

// Rule is one route's rule, for the tests that check every route: Who
// (public, editor, admin) for a page, Scope for an API route.
type Rule struct{ Method, Path, Who, Scope string }

// Changes reports whether the route changes state (and is audited).
func (r Rule) Changes() bool {
	return r.Method != http.MethodGet && r.Method != http.MethodHead
}

// Rules returns the rule of every page and API route, from the tables
// routes() registers.
func (s *Server) Rules() []Rule {
	var out []Rule
	for _, r := range s.pages() {
		out = append(out, Rule{Method: r.method, Path: r.path, Who: [...]string{"public", "editor", "admin"}[r.who]})
	}
	for _, r := range s.apiRoutes() {
		out = append(out, Rule{Method: r.method, Path: "/api" + r.path, Scope: r.scope})
	}
	return out
}
