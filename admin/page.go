package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// page is what every page shows around its content.
type page struct {
	Title string
	Staff string // signed-in editor; empty on the sign-in page
	Admin bool   // the signed-in staff is an admin: navigation shows admins' pages
	CSRF  string
	Flash string
	Nav   string // the active navigation entry

	FlashWarn bool // the flash message reports a problem
	Refresh   int  // reload the page every this many seconds; 0: never
}

// page builds the frame of a page and takes the pending flash message.
func (s *Server) page(c echo.Context, title, nav string) page {
	p := page{Title: title, Nav: nav}
	p.Staff, _ = c.Get(staffKey).(string)
	p.Admin = isAdmin(c)
	p.CSRF, _ = c.Get(csrfField).(string)
	if ck, err := c.Cookie(flashCookie); err == nil && ck.Value != "" {
		p.Flash, _ = url.QueryUnescape(ck.Value)
		if rest, ok := strings.CutPrefix(p.Flash, warnPrefix); ok {
			p.Flash, p.FlashWarn = rest, true
		}
		s.setCookie(c, flashCookie, "", -1)
	}
	return p
}

// confirmPage asks before a destructive action.
type confirmPage struct {
	page
	Heading string
	Message string
	Action  string // where the form posts
	Button  string
	Cancel  string // where "Cancel" goes
}

// warnPrefix marks flash messages that report a problem.
const warnPrefix = "!"

// flash leaves a message for the next page shown.
func (s *Server) flash(c echo.Context, msg string) {
	s.setCookie(c, flashCookie, url.QueryEscape(msg), 60)
}

// flashError shows a domain error the user can act on as a flash message
// on the page at back, and returns any other error.
func (s *Server) flashError(c echo.Context, err error, back string) error {
	switch recipes.ErrorCode(err) {
	case recipes.EINVALID, recipes.ECONFLICT:
		s.flash(c, warnPrefix+recipes.ErrorMessage(err))
		noteFailure(c, codes[recipes.ErrorCode(err)], recipes.ErrorMessage(err))
		return c.Redirect(http.StatusSeeOther, back)
	}
	return err
}
