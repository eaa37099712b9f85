package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// handleRecipeSend is the recipe page's "Send to appliance": it calls
// recipe.install with the editors' copy of the recipe on the chosen device
// and shows the device's answer or the precise failure.
func (s *Server) handleRecipeSend(c echo.Context) error {
	id, device := param(c, "id"), c.FormValue("device")
	noteAudit(c, "device="+device, "method=recipe.install")
	if device == "" {
		s.flash(c, warnPrefix+"Choose an appliance to send the recipe to.")
		return c.Redirect(http.StatusSeeOther, recipeURL(id))
	}
	ctx := c.Request().Context()
	r, _, err := s.store.EditorRecipe(ctx, id)
	if err != nil {
		return err
	}
	params, err := json.Marshal(struct {
		Recipe recipes.Recipe `json:"recipe"`
	}{r})
	if err != nil {
		return err
	}
	staff, _ := c.Get(staffKey).(string)
	call := ApplianceCall{Device: device, Method: "recipe.install", Params: params, Timeout: defaultCallTimeout, Caller: "staff:" + staff}
	ans, err := s.callDevice(ctx, call)
	var f *callFailure
	switch {
	case errors.As(err, &f):
		s.flash(c, warnPrefix+fmt.Sprint(f.Message))
		noteFailure(c, f.Code, fmt.Sprint(f.Message))
	case recipes.ErrorCode(err) == recipes.ENOTFOUND:
		s.flash(c, warnPrefix+recipes.ErrorMessage(err))
		noteFailure(c, http.StatusNotFound, recipes.ErrorMessage(err))
	case err != nil:
		return err
	case ans.Status == http.StatusOK:
		s.flash(c, fmt.Sprintf("Sent “%s” to %s: the appliance installed it.", r.Title, device))
	default:
		s.flash(c, fmt.Sprintf("%s%s refused “%s”: %s", warnPrefix, device, r.Title, applianceSaid(ans)))
		noteFailure(c, http.StatusBadGateway, fmt.Sprintf("the appliance answered %d", ans.Status))
	}
	return c.Redirect(http.StatusSeeOther, recipeURL(id))
}

// applianceSaid describes a device's answer for staff, its own words
// quoted and attributed to it, never passed off as the server's: a device
// may say anything. Its text is cut short and stripped of control and
// bidirectional-override characters, which could make it look like more
// than a quote.
func applianceSaid(ans ApplianceAnswer) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(ans.Body, &e) // the responder checked it is an object with a status
	said := fmt.Sprintf("the appliance answered %d", ans.Status)
	if code := deviceText(e.Error.Code, 40); code != "" {
		said += " " + code
	}
	if msg := deviceText(e.Error.Message, 160); msg != "" {
		said += ": “" + msg + "”"
	} else {
		said += ", without a message"
	}
	return said + "."
}

// deviceText makes text a device sent fit to show inside a quote: at most
// max runes (the flash travels in a cookie, which browsers cap at 4 KB), no control or bidirectional formatting characters, no quote
// marks that could end the quote early.
func deviceText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(s) {
		if n == max {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r), unicode.Is(unicode.Cf, r):
			r = ' '
		case r == '“' || r == '”':
			r = '"'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
