package admin

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// codes maps domain error codes to HTTP statuses: this transport's table.
var codes = map[string]int{
	recipes.EINVALID:     http.StatusBadRequest,
	recipes.ENOTFOUND:    http.StatusNotFound,
	recipes.ECONFLICT:    http.StatusConflict,
	recipes.EUNAVAILABLE: http.StatusServiceUnavailable,
	recipes.EINTERNAL:    http.StatusInternalServerError,
}

// httpCodes names the error code of statuses that come from the HTTP layer
// itself (routing, CSRF, body limit, rate limit).
var httpCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              recipes.ENOTFOUND,
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusTooManyRequests:       "rate_limited",
}

// apiError is the body of every JSON error.
type apiError struct {
	Error struct {
		Code    string               `json:"code"`
		Message string               `json:"message"`
		Fields  []recipes.FieldError `json:"fields,omitempty"`
	} `json:"error"`
}

type errorPage struct {
	page
	Status  int
	Heading string
	Message string
}

// handleError is the one place errors become responses: JSON under /api
// and for the health endpoints, an error page everywhere else. Internal
// errors are logged here and only here; their details never reach the
// client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	var body apiError
	status := http.StatusInternalServerError
	if errors.As(err, &he) {
		status = he.Code
		body.Error.Code = httpCodes[status]
		body.Error.Message = fmt.Sprint(he.Message)
		if status == http.StatusRequestEntityTooLarge {
			body.Error.Message = "The request is too large (the limit is " + s.opts.BodyLimit + "B)."
		}
	} else {
		body.Error.Code = recipes.ErrorCode(err)
		body.Error.Message = recipes.ErrorMessage(err)
		if st, ok := codes[body.Error.Code]; ok {
			status = st
		}
		var verr *recipes.ValidationError
		if errors.As(err, &verr) {
			body.Error.Fields = verr.Fields
		}
	}
	if body.Error.Code == "" {
		body.Error.Code = strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
	}
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "error", err)
	}
	if status == http.StatusUnauthorized && isAPI(c) {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="recipesd"`)
	}

	var rerr error
	switch {
	case c.Request().Method == http.MethodHead:
		rerr = c.NoContent(status)
	case isAPI(c):
		rerr = c.JSON(status, body)
	default:
		p := errorPage{page: s.page(c, http.StatusText(status), ""), Status: status, Heading: http.StatusText(status), Message: body.Error.Message}
		if status >= 500 && status != http.StatusServiceUnavailable {
			p.Message = "Something went wrong on our side. It has been logged; please try again."
		}
		if status == http.StatusNotFound && he != nil {
			p.Message = "There is no page at this address."
		}
		rerr = c.Render(status, "error.html", p)
	}
	if rerr != nil {
		s.log.Error("cannot send error response", "path", c.Request().URL.Path, "error", rerr)
	}
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics"
}

// formErrors holds the problems of a submitted form by field path, such as
// "steps[2].temperature_c", plus those that belong to no one field.
type formErrors struct {
	fields  map[string][]string
	order   []recipes.FieldError // every problem, for the summary
	General []string
}

// add files msg under field; an empty field makes it general.
func (e *formErrors) add(field, msg string) {
	if field == "" {
		e.General = append(e.General, msg)
		return
	}
	if e.fields == nil {
		e.fields = map[string][]string{}
	}
	e.fields[field] = append(e.fields[field], msg)
	e.order = append(e.order, recipes.FieldError{Field: field, Message: msg})
}

// addErr files err: a *recipes.ValidationError field by field (through
// place, which maps a path to the form field showing it), any other domain
// error as a general message. It returns false for errors that are not
// the user's to fix, which the caller returns instead.
func (e *formErrors) addErr(err error, place func(string) string) bool {
	var verr *recipes.ValidationError
	switch {
	case errors.As(err, &verr):
		for _, f := range verr.Fields {
			field := f.Field
			if place != nil {
				field = place(field)
			}
			msg := f.Message
			switch {
			case field == "":
				msg = fieldLabel(f.Field) + " " + msg
			case field != f.Field:
				msg = itemLabel(f.Field) + ": " + msg
			}
			e.add(field, msg)
		}
	case recipes.ErrorCode(err) == recipes.EINVALID, recipes.ErrorCode(err) == recipes.ECONFLICT:
		e.add("", recipes.ErrorMessage(err))
	default:
		return false
	}
	return true
}

// Any reports whether there is any problem.
func (e formErrors) Any() bool { return len(e.order) > 0 || len(e.General) > 0 }

// Has reports whether field has a problem.
func (e formErrors) Has(field string) bool { return len(e.fields[field]) > 0 }

// For returns the problems of field, joined.
func (e formErrors) For(field string) string { return strings.Join(e.fields[field], " ") }

// Summary lists every problem with a label a person reads.
func (e formErrors) Summary() []string {
	out := append([]string(nil), e.General...)
	for _, f := range e.order {
		out = append(out, fieldLabel(f.Field)+": "+f.Message)
	}
	return out
}

var indexed = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?$`)

// fieldLabel turns a field path into words: "steps[2].temperature_c" is
// "Step 3, temperature".
func fieldLabel(path string) string {
	if m := indexed.FindStringSubmatch(path); m != nil {
		l := itemLabel(m[1] + "[" + m[2] + "]")
		if m[3] != "" {
			l += ", " + words(m[3])
		}
		return l
	}
	return capitalize(words(path))
}

// itemLabel names one row of a repeated field: "tags[1]" is "Tag 2".
func itemLabel(path string) string {
	m := indexed.FindStringSubmatch(path)
	if m == nil {
		return capitalize(words(path))
	}
	n, _ := strconv.Atoi(m[2])
	return capitalize(strings.TrimSuffix(words(m[1]), "s")) + " " + strconv.Itoa(n+1)
}

func words(field string) string {
	switch field {
	case "temperature_c":
		return "temperature"
	case "total_minutes":
		return "total time"
	case "id":
		return "ID"
	case "move_to":
		return "target category"
	}
	return strings.ReplaceAll(field, "_", " ")
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
