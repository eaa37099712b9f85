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
	Tokens  []tokenRow
	Name    string          // as typed in the form
	Scopes  map[string]bool // as ticked in the form
	Created string          // name of the token just created
	Secret  string          // its secret, shown this once
	Errors  formErrors

	AllScopes []scopeChoice
}

type tokenRow struct {
	recipes.APIToken
	ScopeList string
}

type scopeChoice struct {
	Name, Description string
}

var scopeChoices = []scopeChoice{
	{recipes.ScopeCatalog, "categories and recipes"},
	{recipes.ScopeDevices, "register, re-key, disable and delete devices"},
	{recipes.ScopeCommands, "send commands to connected appliances"},
	{recipes.ScopeMetrics, "read /metrics (for Prometheus)"},
	{recipes.ScopeAudit, "read the audit log"},
}

func (s *Server) tokenPage(c echo.Context) (tokenIndexPage, error) {
	ts, err := s.store.APITokens(c.Request().Context())
	if err != nil {
		return tokenIndexPage{}, err
	}
	p := tokenIndexPage{page: s.page(c, "API tokens", "tokens"), AllScopes: scopeChoices,
		Scopes: map[string]bool{recipes.ScopeCatalog: true}} // least privilege by default
	for _, t := range ts {
		p.Tokens = append(p.Tokens, tokenRow{APIToken: t, ScopeList: strings.Join(t.Allowed(), ", ")})
	}
	return p, nil
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
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	scopes := form["scope"]
	noteAudit(c, "name="+name, "scopes="+strings.Join(scopes, ","))
	staff, _ := c.Get(staffKey).(string)
	p, err := s.tokenPage(c)
	if err != nil {
		return err
	}
	p.Name, p.Scopes = name, map[string]bool{}
	for _, sc := range scopes {
		p.Scopes[sc] = true
	}
	if err := recipes.CheckScopes(scopes); err != nil {
		p.Errors.add("scope", recipes.ErrorMessage(err))
		return c.Render(http.StatusUnprocessableEntity, "tokens.html", p)
	}
	secret, err := s.store.CreateAPIToken(ctx, name, staff, scopes)
	if err != nil {
		p.Errors.add("name", recipes.ErrorMessage(err))
		if code := recipes.ErrorCode(err); code != recipes.EINVALID && code != recipes.ECONFLICT {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "tokens.html", p)
	}
	if p, err = s.tokenPage(c); err != nil { // with the new token listed
		return err
	}
	s.log.Info("api token created", "name", name, "scopes", scopes, "by", staff)
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
