package admin

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

const (
	sessionCookie = "recipesd_session"
	flashCookie   = "recipesd_flash"
	staffKey      = "staff"     // context: the signed-in staff name
	roleKey       = "role"      // context: the signed-in staff's role
	sessionKey    = "sessionID" // context: the session id
)

type loginPage struct {
	page
	Name  string
	Next  string
	Error string
}

func (s *Server) handleLoginForm(c echo.Context) error {
	if _, _, err := s.session(c); err == nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.renderLogin(c, http.StatusOK, "", c.QueryParam("next"), "")
}

// renderLogin shows the sign-in form. It carries next only if it is a path
// on this server: the form must not hand an outside address on.
func (s *Server) renderLogin(c echo.Context, status int, name, next, msg string) error {
	if !localPath(next) {
		next = ""
	}
	return c.Render(status, "login.html", loginPage{page: s.page(c, "Sign in", ""), Name: name, Next: next, Error: msg})
}

// handleLogin checks a name and password and starts a new session.
func (s *Server) handleLogin(c echo.Context) error {
	ctx := c.Request().Context()
	name, password, next := strings.TrimSpace(c.FormValue("name")), c.FormValue("password"), c.FormValue("next")
	client, now := c.RealIP(), time.Now()
	if limit, wait := s.logins.admit(client, name, now); limit != "" {
		// Throttled before the account is looked up: the name may be
		// anything typed, so it is not recorded.
		setActor(c, recipes.Actor{Kind: recipes.ActorStaff})
		return s.refuseLogin(c, name, next, limit, wait)
	}
	st, err := s.store.AuthenticateStaff(ctx, name, password)
	code := recipes.ErrorCode(err)
	if err != nil && code != recipes.ENOTFOUND && code != recipes.EINVALID && code != recipes.ECONFLICT {
		return err
	}
	if code == recipes.ECONFLICT { // the right password of a disabled account
		s.logins.failed(client, name, now)
		setActor(c, recipes.Actor{Kind: recipes.ActorStaff, Name: name})
		s.log.Info("sign-in refused: account disabled", "name", name, "client", client)
		noteFailure(c, http.StatusForbidden, "account disabled")
		return s.renderLogin(c, http.StatusForbidden, name, next, "This account is disabled. An admin can enable it again.")
	}
	if err != nil {
		s.logins.failed(client, name, now)
		// People type their password into the name field: a name that is
		// no account is logged only by its length.
		if code == recipes.EINVALID {
			setActor(c, recipes.Actor{Kind: recipes.ActorStaff, Name: name})
			s.log.Info("sign-in failed: wrong password", "name", name, "client", client)
		} else {
			// Nor is it recorded in the audit log, for the same reason.
			setActor(c, recipes.Actor{Kind: recipes.ActorStaff})
			noteAudit(c, "", "no such account (the name is not recorded)")
			s.log.Info("sign-in failed: no such account", "name_len", len(name), "client", client)
		}
		noteFailure(c, http.StatusUnauthorized, "wrong name or password")
		return s.renderLogin(c, http.StatusUnauthorized, name, next, "Wrong name or password.")
	}
	s.logins.succeeded(client, name)

	// A fresh id at every sign-in: an id planted before it is worth nothing.
	if old, err := c.Cookie(sessionCookie); err == nil {
		_ = s.store.DeleteSession(ctx, old.Value)
	}
	sess := recipes.Session{Staff: st.Name, CreatedAt: time.Now().UTC()}
	id, err := s.store.CreateSession(ctx, sess, s.opts.SessionIdle)
	if err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, id, 0)
	c.Set(staffKey, st.Name)
	setActor(c, recipes.Actor{Kind: recipes.ActorStaff, Name: st.Name})
	s.log.Info("signed in", "name", st.Name, "client", c.RealIP())
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// refuseLogin answers an attempt beyond a sign-in limit, saying which
// limit and when to try again.
func (s *Server) refuseLogin(c echo.Context, name, next, limit string, wait time.Duration) error {
	s.log.Warn("sign-in attempts limited", "limit", limit, "client", c.RealIP(), "retry_after", wait.Round(time.Second))
	secs := max(1, int(math.Ceil(wait.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	whose := map[string]string{
		limitPair:    "for this account from your address",
		limitAddress: "from your address",
		limitAccount: "for this account",
	}[limit]
	return s.renderLogin(c, http.StatusTooManyRequests, name, next,
		fmt.Sprintf("Too many failed sign-ins %s. Try again in %s.", whose, niceWait(secs)))
}

// niceWait says a number of seconds the way people do.
func niceWait(secs int) string {
	switch {
	case secs < 2:
		return "a second"
	case secs < 90:
		return fmt.Sprintf("%d seconds", secs)
	default:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	}
}

// startPage is where sign-in leads when it was not given a page to return to.
const startPage = "/categories"

// safeNext returns next if it is a path on this server, and the start page
// otherwise, so that the login form cannot be used to redirect elsewhere.
func safeNext(next string) string {
	if localPath(next) {
		return next
	}
	return startPage
}

// localPath reports whether next is a path on this server and nothing a
// browser could read as another origin. Browsers drop tabs and newlines
// anywhere in a URL, strip leading spaces and read a backslash as a slash,
// so "/\t/evil.example" and "/\\evil.example" both lead to another host; the
// checks hold for next and for what it decodes to, because a percent-
// encoded character may be decoded on the way (by a proxy, or by us when
// next comes back as a query parameter).
func localPath(next string) bool {
	if !strings.HasPrefix(next, "/") || len(next) > 2048 {
		return false
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false // control characters, whitespace, non-ASCII, backslash
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// Decode until nothing changes (bounded: a double-encoded "%252F"
	// decodes twice), checking every form on the way.
	for range 3 {
		dec, err := url.PathUnescape(next)
		if err != nil {
			return false
		}
		if strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\") ||
			strings.IndexFunc(dec, func(r rune) bool {
				return r == '\\' || r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r)
			}) >= 0 {
			return false
		}
		if dec == next {
			return true
		}
		next = dec
	}
	return false // still encoded after three rounds: nobody needs that
}

// handleLogout ends the session on the server, not just in the browser.
func (s *Server) handleLogout(c echo.Context) error {
	if err := s.store.DeleteSession(c.Request().Context(), c.Get(sessionKey).(string)); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, "", -1)
	s.flash(c, "You are signed out.")
	return c.Redirect(http.StatusSeeOther, "/login")
}

// session returns the live session of c's cookie and its account. The
// account is read on every request (one HGET) so that a role change
// applies to the next request and a disabled or deleted account's session
// ends at once, whatever ended its sessions in the store or not.
func (s *Server) session(c echo.Context) (recipes.Session, recipes.Staff, error) {
	sess, err := s.sessionOnly(c)
	if err != nil {
		return sess, recipes.Staff{}, err
	}
	st, err := s.store.Staff(c.Request().Context(), sess.Staff)
	if err == nil && st.Disabled {
		err = recipes.Errorf(recipes.ENOTFOUND, "staff account %q is disabled", sess.Staff)
	}
	if recipes.ErrorCode(err) == recipes.ENOTFOUND {
		_ = s.store.DeleteSession(c.Request().Context(), c.Get(sessionKey).(string))
	}
	return sess, st, err
}

// sessionOnly returns the live session of c's cookie.
func (s *Server) sessionOnly(c echo.Context) (recipes.Session, error) {
	ck, err := c.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return recipes.Session{}, recipes.Errorf(recipes.ENOTFOUND, "not signed in")
	}
	sess, err := s.store.Session(c.Request().Context(), ck.Value, s.opts.SessionIdle)
	if err != nil {
		return sess, err
	}
	if time.Since(sess.CreatedAt) > s.opts.SessionMaxAge {
		_ = s.store.DeleteSession(c.Request().Context(), ck.Value)
		return sess, recipes.Errorf(recipes.ENOTFOUND, "session too old")
	}
	c.Set(sessionKey, ck.Value)
	return sess, nil
}

// requireStaff lets signed-in staff through and sends everyone else to
// the sign-in page, back here afterwards.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, st, err := s.session(c)
		switch {
		case recipes.ErrorCode(err) == recipes.ENOTFOUND:
			if _, cerr := c.Cookie(sessionCookie); cerr == nil {
				s.setCookie(c, sessionCookie, "", -1)
				s.flash(c, "Your session has ended. Please sign in again.")
			}
			target := "/login"
			if r := c.Request(); r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			return c.Redirect(http.StatusSeeOther, target)
		case err != nil:
			return err
		}
		c.Set(staffKey, sess.Staff)
		c.Set(roleKey, st.EffectiveRole())
		setActor(c, recipes.Actor{Kind: recipes.ActorStaff, Name: sess.Staff})
		return next(c)
	}
}

// setCookie sets an HttpOnly, SameSite=Lax cookie for the whole site,
// Secure over TLS. maxAge 0 makes a session cookie, negative deletes.
func (s *Server) setCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(c), SameSite: http.SameSiteLaxMode,
	})
}

// setActor makes a the actor of every write c's handler makes: the
// catalog's revisions and the audit log read it from the request context.
func setActor(c echo.Context, a recipes.Actor) {
	r := c.Request()
	c.SetRequest(r.WithContext(recipes.WithActor(r.Context(), a)))
}
