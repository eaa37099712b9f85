package admin

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// devicesPerPage is how many devices the device list shows at once, and
// maxPage the last page anyone can ask for.
const (
	devicesPerPage = 50
	maxPage        = 1 << 20
)

func deviceURL(id string) string { return "/devices/" + url.PathEscape(id) }

type deviceIndexPage struct {
	page
	Devices []deviceRow
	Total   int
	Query   string
	State   string
	PageNo  int // 1-based
	Pages   int
	PrevURL string
	NextURL string

	Models []string
	New    deviceForm // the registration form, as typed
	Errors formErrors
}

// deviceForm is the registration form, as typed.
type deviceForm struct {
	ID     string
	Model  string
	Locale string
}

func (s *Server) handleDeviceIndex(c echo.Context) error {
	p, err := s.deviceIndexPage(c)
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "devices.html", p)
}

func (s *Server) deviceIndexPage(c echo.Context) (deviceIndexPage, error) {
	q := strings.TrimSpace(c.QueryParam("q"))
	state := c.QueryParam("state")
	n, _ := strconv.Atoi(c.QueryParam("page"))
	n = min(max(n, 1), maxPage) // a wild number must not overflow the offset
	rows, total, err := s.findDevices(c.Request().Context(), deviceFilter{Text: q, State: state, Offset: (n - 1) * devicesPerPage, Limit: devicesPerPage})
	if err != nil {
		return deviceIndexPage{}, err
	}
	p := deviceIndexPage{page: s.page(c, "Devices", "devices"), Devices: rows, Total: total, Query: q, State: state,
		PageNo: n, Pages: max(1, (total+devicesPerPage-1)/devicesPerPage), Models: recipes.Models}
	link := func(n int) string {
		v := url.Values{}
		if q != "" {
			v.Set("q", q)
		}
		if state != "" {
			v.Set("state", state)
		}
		if n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return "/devices"
		}
		return "/devices?" + v.Encode()
	}
	if n > 1 {
		p.PrevURL = link(min(n-1, p.Pages))
	}
	if n < p.Pages {
		p.NextURL = link(n + 1)
	}
	return p, nil
}

// handleDeviceCreate registers a device and shows its secret once, on the
// page that answers the POST (never in a URL or a cookie).
func (s *Server) handleDeviceCreate(c echo.Context) error {
	f := deviceForm{ID: strings.TrimSpace(c.FormValue("id")), Model: c.FormValue("model"), Locale: strings.TrimSpace(c.FormValue("locale"))}
	d, secret, err := s.registerDevice(c, f.ID, f.Model, f.Locale)
	if err != nil {
		p, perr := s.deviceIndexPage(c)
		if perr != nil {
			return perr
		}
		p.New = f
		if recipes.ErrorCode(err) == recipes.ECONFLICT {
			p.Errors.add("id", recipes.ErrorMessage(err))
		} else if !p.Errors.addErr(err, nil) {
			return err
		}
		return c.Render(http.StatusUnprocessableEntity, "devices.html", p)
	}
	return s.showDevice(c, http.StatusOK, d, func(p *devicePage) { p.Secret, p.SecretNew = secret, true })
}

type devicePage struct {
	page
	Device deviceRow
	Models []string
	Model  string // the model form, as typed
	Locale string // the locale form, as typed
	Errors formErrors

	Secret    string // a secret just issued, shown this once
	SecretNew bool   // issued at registration rather than by rotation
}

func (s *Server) renderDevice(c echo.Context, status int, id string, edit func(*devicePage)) error {
	d, err := s.deviceRow(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.showDevice(c, status, d, edit)
}

func (s *Server) showDevice(c echo.Context, status int, d deviceRow, edit func(*devicePage)) error {
	p := devicePage{page: s.page(c, d.ID, "devices"), Device: d, Models: recipes.Models, Model: d.Model, Locale: d.Locale}
	if edit != nil {
		edit(&p)
	}
	return c.Render(status, "device.html", p)
}

func (s *Server) handleDeviceView(c echo.Context) error {
	return s.renderDevice(c, http.StatusOK, param(c, "id"), nil)
}

func (s *Server) handleDeviceModel(c echo.Context) error {
	id, model := param(c, "id"), c.FormValue("model")
	ctx := c.Request().Context()
	before, err := s.store.Device(ctx, id)
	if err != nil {
		return err
	}
	if before.Model == model {
		s.flash(c, fmt.Sprintf("%s is a %s already; nothing changed.", id, model))
		return c.Redirect(http.StatusSeeOther, deviceURL(id))
	}
	_, err = s.store.UpdateDevice(ctx, id, recipes.DeviceUpdate{Model: &model})
	if err != nil {
		var errs formErrors
		if recipes.ErrorCode(err) == recipes.ENOTFOUND || !errs.addErr(err, nil) {
			return err
		}
		return s.renderDevice(c, http.StatusUnprocessableEntity, id, func(p *devicePage) {
			p.Model, p.Errors = model, errs
		})
	}
	s.log.Info("device model changed", "device", id, "model", model, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("%s is now a %s. If it was connected, it was disconnected so that it reconnects as one.", id, model))
	return c.Redirect(http.StatusSeeOther, deviceURL(id))
}

// handleDeviceLocale sets the device's locale, or clears it when the
// field is left empty.
func (s *Server) handleDeviceLocale(c echo.Context) error {
	id, typed := param(c, "id"), strings.TrimSpace(c.FormValue("locale"))
	locale := recipes.NormalizeLocale(typed)
	ctx := c.Request().Context()
	before, err := s.store.Device(ctx, id)
	if err != nil {
		return err
	}
	if before.Locale == locale {
		s.flash(c, fmt.Sprintf("%s speaks %s already; nothing changed.", id, localeName(locale)))
		return c.Redirect(http.StatusSeeOther, deviceURL(id))
	}
	if _, err = s.store.UpdateDevice(ctx, id, recipes.DeviceUpdate{Locale: &locale}); err != nil {
		var errs formErrors
		if recipes.ErrorCode(err) == recipes.ENOTFOUND || !errs.addErr(err, nil) {
			return err
		}
		return s.renderDevice(c, http.StatusUnprocessableEntity, id, func(p *devicePage) {
			p.Locale, p.Errors = typed, errs
		})
	}
	s.log.Info("device locale changed", "device", id, "locale", locale, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("%s now speaks %s. If it was connected, it was disconnected so that it reconnects speaking it.", id, localeName(locale)))
	return c.Redirect(http.StatusSeeOther, deviceURL(id))
}

// localeName is how a flash message names a locale.
func localeName(locale string) string {
	if locale == "" {
		return "the catalog's default language"
	}
	return locale
}

func (s *Server) handleDeviceEnable(c echo.Context) error  { return s.setDeviceEnabled(c, true) }
func (s *Server) handleDeviceDisable(c echo.Context) error { return s.setDeviceEnabled(c, false) }

func (s *Server) setDeviceEnabled(c echo.Context, enabled bool) error {
	id := param(c, "id")
	if _, err := s.store.UpdateDevice(c.Request().Context(), id, recipes.DeviceUpdate{Enabled: &enabled}); err != nil {
		return err
	}
	msg := fmt.Sprintf("%s is enabled: it can connect.", id)
	if !enabled {
		msg = fmt.Sprintf("%s is disabled: it cannot connect, and its connection, if it had one, was closed.", id)
	}
	s.log.Info("device enabled changed", "device", id, "enabled", enabled, "by", c.Get(staffKey))
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, deviceURL(id))
}

func (s *Server) handleDeviceRotateForm(c echo.Context) error {
	return s.confirmDevice(c, "rotate", "New secret for %s", "Issue a new secret for “%s”?",
		"The current secret stops working at once and the device is disconnected. It can connect again only once the new secret, shown on the next page, is installed on it.",
		"Issue new secret")
}

// confirmDevice asks, on a page of its own, before action is posted for
// the device of the URL; it is ENOTFOUND for an unknown device.
func (s *Server) confirmDevice(c echo.Context, action, title, heading, message, button string) error {
	d, err := s.store.Device(c.Request().Context(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "confirm.html", confirmPage{
		page:    s.page(c, fmt.Sprintf(title, d.ID), "devices"),
		Heading: fmt.Sprintf(heading, d.ID), Message: message,
		Action: deviceURL(d.ID) + "/" + action, Button: button, Cancel: deviceURL(d.ID),
	})
}

// handleDeviceRotate issues a new secret and shows it once.
func (s *Server) handleDeviceRotate(c echo.Context) error {
	d, secret, err := s.rotateDevice(c, param(c, "id"))
	if err != nil {
		return err
	}
	return s.showDevice(c, http.StatusOK, d, func(p *devicePage) { p.Secret = secret })
}

func (s *Server) handleDeviceDeleteForm(c echo.Context) error {
	return s.confirmDevice(c, "delete", "Delete %s", "Delete the device “%s”?",
		"It is disconnected and can never connect again with its secret. Registering the same ID later issues a new secret. This cannot be undone.",
		"Delete device")
}

func (s *Server) handleDeviceDelete(c echo.Context) error {
	id := param(c, "id")
	if err := s.deleteDevice(c, id); err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Device “%s” deleted.", id))
	return c.Redirect(http.StatusSeeOther, "/devices")
}
