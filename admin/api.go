package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"

	"github.com/recipesd/recipesd/web"
)

// The JSON API mirrors the UI for automation. It is authenticated with API
// tokens (Authorization: Bearer …), never with the session cookie, so it
// needs no CSRF token. web/static/openapi.json documents it.

// requireToken lets requests with a valid API token through.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		auth := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, secret, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return echo.NewHTTPError(http.StatusUnauthorized, "Send an API token: Authorization: Bearer <token>.").SetInternal(errNoToken)
		}
		tok, err := s.store.APIToken(c.Request().Context(), strings.TrimSpace(secret))
		switch {
		case recipes.ErrorCode(err) == recipes.ENOTFOUND:
			return echo.NewHTTPError(http.StatusUnauthorized, "The API token is not valid (revoked, or never issued).").SetInternal(errNoToken)
		case err != nil:
			return err
		}
		c.Set(staffKey, "token:"+tok.Name)
		c.Set(tokenKey, tok)
		setActor(c, recipes.Actor{Kind: recipes.ActorToken, Name: tok.Name})
		return next(c)
	}
}

// errNoToken is the answer to an API request without a valid token.
var errNoToken = errors.New("admin: no valid API token")

// tokenKey holds the request's API token in the echo.Context.
const tokenKey = "api-token"

// requireScope lets through requests whose API token has scope.
func requireScope(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok, _ := c.Get(tokenKey).(recipes.APIToken)
			if !tok.Allows(scope) {
				return echo.NewHTTPError(http.StatusForbidden, fmt.Sprintf(
					"The API token %q may not do this: it needs the %q scope and has %s. Create a token with that scope under API tokens.",
					tok.Name, scope, strings.Join(tok.Allowed(), ", ")))
			}
			return next(c)
		}
	}
}

func (s *Server) handleOpenAPI(c echo.Context) error {
	b, err := web.FS.ReadFile("static/openapi.json")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSONBlob(http.StatusOK, b)
}

// bindJSON decodes the request body into v.
func bindJSON(c echo.Context, v any) error { return decodeJSON(c, v, false) }

// bindStrictJSON is [bindJSON] that also refuses unknown fields and
// trailing data: for requests where a misspelt field ("enable" for
// "enabled") would otherwise be silently ignored.
func bindStrictJSON(c echo.Context, v any) error {
	return decodeJSON(c, v, true)
}

func decodeJSON(c echo.Context, v any, strict bool) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "Send JSON (Content-Type: application/json).")
	}
	dec := json.NewDecoder(c.Request().Body)
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return recipes.Errorf(recipes.EINVALID, "the body is not the JSON expected: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); strict && err != io.EOF {
		return recipes.Errorf(recipes.EINVALID, "the body is not the JSON expected: there is more after the object")
	}
	return nil
}

// jsonProblem describes a decoding error without Go type names.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return "field " + strconv.Quote(te.Field) + " has the wrong type"
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case err.Error() == "EOF":
		return "it is empty"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "it has the unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	return "it cannot be decoded"
}

// okJSON answers v with 200 OK, or returns err, when there is one, for
// the error handler.
func okJSON(c echo.Context, v any, err error) error {
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

type list[T any] struct {
	Items []T `json:"items"`
}

func queryInt(c echo.Context, name string, def, lo, hi int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, recipes.Errorf(recipes.EINVALID, "%s must be a whole number between %d and %d, not %q", name, lo, hi, v)
	}
	return n, nil
}

// normalize makes empty lists [] rather than null in JSON.
func normalize(p recipes.Publication) recipes.Publication {
	if p.Categories == nil {
		p.Categories = []string{}
	}
	if p.Recipes == nil {
		p.Recipes = []string{}
	}
	return p
}
