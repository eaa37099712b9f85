package admin

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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

// limitLogins refuses sign-in attempts beyond the limit of the client's
// address, the TCP peer's: headers like X-Forwarded-For are not trusted.
// Every attempt takes a token up front, so parallel guesses count too, and
// a successful one gives it back.
func (s *Server) limitLogins(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		client := c.RealIP()
		if !s.logins.allow(client, time.Now()) {
			s.log.Warn("sign-in attempts limited", "client", client)
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(s.opts.LoginEvery.Seconds())+1))
			return s.renderLogin(c, http.StatusTooManyRequests, c.FormValue("name"), c.FormValue("next"),
				"Too many sign-in attempts from your address. Wait a minute, then try again.")
		}
		err := next(c)
		if _, ok := c.Get(staffKey).(string); ok {
			s.logins.refund(client) // only failed attempts count
		}
		return err
	}
}

// limiter is a token bucket per key, refilled by one token every `every`
// up to burst.
type limiter struct {
	burst int
	every time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// maxBuckets bounds the limiter's memory; full buckets are dropped first.
const maxBuckets = 10000

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, buckets: map[string]*bucket{}}
}

func (l *limiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.prune(now)
		}
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[key] = b
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.last))/float64(l.every))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refund gives back the token an allowed attempt took.
func (l *limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = min(float64(l.burst), b.tokens+1)
	}
}

// prune drops buckets that have refilled; if none has, the oldest half.
func (l *limiter) prune(now time.Time) {
	full := time.Duration(l.burst) * l.every
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets {
		return
	}
	n := 0
	for k := range l.buckets {
		if n >= maxBuckets/2 {
			break
		}
		delete(l.buckets, k)
		n++
	}
}
