package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

type tokenIndexPage struct {
	page
	Tokens  []recipes.APIToken
	Name    string // as typed in the form
	Created string // name of the token just created
	Secret  string // its secret, shown this once
	Errors  formErrors
}

func (s *Server) tokenPage(c echo.Context) (tokenIndexPage, error) {
	ts, err := s.store.APITokens(c.Request().Context())
	if err != nil {
		return tokenIndexPage{}, err
	}
	return tokenIndexPage{page: s.page(c, "API tokens", "tokens"), Tokens: ts}, nil
}

func (s *Server) handleTokenIndex(c echo.Context) error {
	p, err := s.tokenPage(c)
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "tokens.html", p)
}

// handleTokenCreate creates a token and shows its secret once, on the page
// that answers the POST (never in a URL or a cookie).
func (s *Server) handleTokenCreate(c echo.Context) error {
	ctx := c.Request().Context()
	name := strings.TrimSpace(c.FormValue("name"))
	staff, _ := c.Get(staffKey).(string)
	secret, err := CreateToken(ctx, s.store, name, staff)
	p, perr := s.tokenPage(c)
	if perr != nil {
		return perr
	}
	if err != nil {
		p.Name = name
		p.Errors.add("name", recipes.ErrorMessage(err))
		if code := recipes.ErrorCode(err); code != recipes.EINVALID && code != recipes.ECONFLICT {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "tokens.html", p)
	}
	s.log.Info("api token created", "name", name, "by", staff)
	p.Created, p.Secret = name, secret
	return c.Render(http.StatusOK, "tokens.html", p)
}

func tokenURL(name string) string { return "/tokens/" + url.PathEscape(name) }

func (s *Server) handleTokenRevokeForm(c echo.Context) error {
	name := param(c, "name")
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, "Revoke "+name, "tokens"),
		Heading: fmt.Sprintf("Revoke the API token “%s”?", name),
		Message: "Programs using it will be refused from now on. This cannot be undone.",
		Action:  tokenURL(name) + "/revoke", Button: "Revoke token", Cancel: "/tokens",
	})
}

func (s *Server) handleTokenRevoke(c echo.Context) error {
	name := param(c, "name")
	if err := s.store.RevokeAPIToken(c.Request().Context(), name); err != nil {
		return err
	}
	s.log.Info("api token revoked", "name", name, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("API token “%s” revoked.", name))
	return c.Redirect(http.StatusSeeOther, "/tokens")
}
