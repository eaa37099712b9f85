package admin

import (
	"errors"
	"fmt"
	"net/http"
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
