package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// The audit log: every state-changing request of a page or the API is
// recorded once, after its handler, by [Server.audited], which every such
// row of pages() and apiRoutes() gets from routes(). An entry holds the
// actor from the request context, the route ("POST /recipes/:id/publish"),
// its path parameters, the outcome and, where a handler adds one, a
// detail; never the request body, so never a password or secret.

// Context keys of what a handler adds to its audit entry.
const (
	auditTargetKey  = "audit-target"
	auditDetailKey  = "audit-detail"
	auditFailureKey = "audit-failure"
)

// noteAudit adds to the request's audit entry: target (when not empty)
// after the path parameters, such as the id of a device being created,
// and a detail, such as the method of a command. Never a secret.
func noteAudit(c echo.Context, target, detail string) {
	if target != "" {
		c.Set(auditTargetKey, target)
	}
	if detail != "" {
		c.Set(auditDetailKey, detail)
	}
}

// noteFailure marks a request that failed though it answers with a
// redirect (a flashed warning): status and the message shown.
func noteFailure(c echo.Context, status int, msg string) {
	c.Set(auditFailureKey, outcome(status, msg))
}

// audited records a request of method after its handler, if method
// changes state. A request without an actor (no session, no token) never
// gets here, except on the public sign-in, which sets its own.
//
// The entry is written before ServeHTTP returns, and so before the end of
// the answer reaches the client (net/http buffers what the handler wrote
// until then): whoever acts and then opens /audit finds the entry.
func (s *Server) audited(method string, public bool) echo.MiddlewareFunc {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if s.opts.Audit == nil {
			return next
		}
		return func(c echo.Context) error {
			err := next(c)
			s.record(c, err)
			return err
		}
	}
}

// record writes c's audit entry. A failure to record is logged: the
// request has happened and its answer is on its way.
func (s *Server) record(c echo.Context, err error) {
	e := recipes.AuditEntry{
		Actor:  recipes.ActorFrom(c.Request().Context()),
		Action: c.Request().Method + " " + c.Path(),
		Target: auditTarget(c),
	}
	e.Detail, _ = c.Get(auditDetailKey).(string)
	status, msg := c.Response().Status, ""
	if err != nil {
		status, msg = errorStatus(err)
	}
	switch f, _ := c.Get(auditFailureKey).(string); {
	case f != "":
		e.Outcome = f
	case status >= 400:
		e.Outcome = outcome(status, msg)
	default:
		e.Outcome = recipes.AuditOK
	}
	// The client may be gone; the entry is still due.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	if rerr := s.opts.Audit.Record(ctx, e); rerr != nil {
		s.log.Error("cannot record an audit entry", "action", e.Action, "actor", e.Actor.String(), "error", rerr)
	}
}

// auditTarget names what c acted on: its path parameters, then what the
// handler noted.
func auditTarget(c echo.Context) string {
	var parts []string
	for _, name := range c.ParamNames() {
		parts = append(parts, name+"="+param(c, name))
	}
	if t, _ := c.Get(auditTargetKey).(string); t != "" {
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

// outcome is "<status> <reason>", the reason cut short.
func outcome(status int, msg string) string {
	if msg == "" {
		msg = http.StatusText(status)
	}
	if len(msg) > 200 {
		cut := 200
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return strconv.Itoa(status) + " " + msg
}

// errorStatus returns the status and the user's message handleError
// answers err with.
func errorStatus(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, fmt.Sprint(he.Message)
	}
	if st, ok := codes[recipes.ErrorCode(err)]; ok {
		return st, recipes.ErrorMessage(err)
	}
	return http.StatusInternalServerError, "internal error"
}

// auditFilter reads a filter from the query: actor, target, from, to
// (RFC 3339, or a date and time in UTC as a datetime-local field sends
// it, or a date), before, limit.
func auditFilter(c echo.Context) (recipes.AuditFilter, error) {
	q := c.QueryParams()
	f := recipes.AuditFilter{
		Actor:  strings.TrimSpace(q.Get("actor")),
		Target: strings.TrimSpace(q.Get("target")),
		Before: q.Get("before"),
	}
	var err error
	if f.From, err = parseTime("from", q.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", q.Get("to")); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, recipes.Errorf(recipes.EINVALID, "from (%s) must be before to (%s)", q.Get("from"), q.Get("to"))
	}
	if l := q.Get("limit"); l != "" {
		if f.Limit, err = strconv.Atoi(l); err != nil || f.Limit < 1 || f.Limit > 1000 {
			return f, recipes.Errorf(recipes.EINVALID, "limit %q must be a number from 1 to 1000", l)
		}
	}
	return f, nil
}

func parseTime(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, recipes.Errorf(recipes.EINVALID,
		"%s %q is not a time: use RFC 3339 (2025-03-01T12:00:00Z), a UTC date and time (2025-03-01T12:00) or a date", field, v)
}

// errNoAudit answers the audit pages of a server without a log.
var errNoAudit = echo.NewHTTPError(http.StatusNotFound, "This server keeps no audit log.")

type auditPage struct {
	page
	Filter  url.Values
	Entries []recipes.AuditEntry
	Next    string // query of the next page; empty on the last
	Export  string // query of the export of the same filter
	Error   string
}

func (s *Server) handleAuditIndex(c echo.Context) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	p := auditPage{page: s.page(c, "Audit log", "audit"), Filter: c.QueryParams()}
	f, err := auditFilter(c)
	if err == nil {
		var res recipes.AuditPage
		res, err = s.opts.Audit.Entries(c.Request().Context(), f)
		p.Entries = res.Entries
		if res.Next != "" {
			q := c.QueryParams()
			q.Set("before", res.Next)
			p.Next = q.Encode()
		}
	}
	if recipes.ErrorCode(err) == recipes.EINVALID {
		p.Error = recipes.ErrorMessage(err)
		return c.Render(http.StatusBadRequest, "audit.html", p)
	}
	if err != nil {
		return err
	}
	q := c.QueryParams()
	q.Del("before")
	q.Del("limit")
	p.Export = q.Encode()
	return c.Render(http.StatusOK, "audit.html", p)
}

// handleAuditExport writes every entry the filter selects, newest first,
// as JSON lines, a download.
func (s *Server) handleAuditExport(c echo.Context) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	// A bad filter fails before the first byte; later errors end the
	// stream early and are logged.
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/jsonl; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="recipesd-audit.jsonl"`)
	c.Response().WriteHeader(http.StatusOK)
	enc := json.NewEncoder(c.Response())
	err = s.opts.Audit.Each(c.Request().Context(), f, func(e recipes.AuditEntry) error { return enc.Encode(e) })
	if err != nil {
		s.log.Error("audit export cut short", "error", err)
	}
	return nil
}

// apiAuditIndex is GET /api/audit: a page of entries and the before of
// the next.
func (s *Server) apiAuditIndex(c echo.Context) error {
	if s.opts.Audit == nil {
		return errNoAudit
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	res, err := s.opts.Audit.Entries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if res.Entries == nil {
		res.Entries = []recipes.AuditEntry{}
	}
	return c.JSON(http.StatusOK, res)
}
