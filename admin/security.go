package admin

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// contentSecurityPolicy allows nothing but this server's own scripts,
// styles and images: no inline script or style, no framing, and forms
// that only post back here.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if c.IsTLS() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(c.Path(), "/static") {
			h.Set("Cache-Control", "public, max-age=3600")
		} else {
			// Pages show editors' unpublished work: no shared caches, and
			// no back-button copies after sign-out.
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// secure reports whether cookies set in answer to c must be Secure.
func (s *Server) secure(c echo.Context) bool { return s.opts.SecureCookies || c.IsTLS() }

// csrf checks the token of every state-changing form (field _csrf) against
// its cookie, or, for browsers that send Sec-Fetch-Site, that the request
// came from this site. It needs two configurations because the cookie's
// Secure flag depends on the request.
func (s *Server) csrf() echo.MiddlewareFunc {
	config := func(secure bool) echo.MiddlewareFunc {
		return middleware.CSRFWithConfig(middleware.CSRFConfig{
			TokenLookup:    "form:" + csrfField,
			ContextKey:     csrfField,
			CookieName:     "recipesd_csrf",
			CookiePath:     "/",
			CookieHTTPOnly: true,
			CookieSecure:   secure,
			CookieSameSite: http.SameSiteStrictMode,
			AllowSecFetchSiteFunc: func(c echo.Context) (bool, error) {
				if c.Request().Header.Get(echo.HeaderSecFetchSite) == "same-site" {
					return false, nil // a sibling site may be trusted less: check the token
				}
				return false, errCSRF
			},
			ErrorHandler: func(error, echo.Context) error { return errCSRF },
		})
	}
	plain, secure := config(false), config(true)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		p, s2 := plain(next), secure(next)
		return func(c echo.Context) error {
			if s.secure(c) {
				return s2(c)
			}
			return p(c)
		}
	}
}

// csrfField is the form field, and context key, of the CSRF token.
const csrfField = "_csrf"

var errCSRF = echo.NewHTTPError(http.StatusForbidden,
	"This form has expired or was sent from another site. Go back, reload the page and try again.")
