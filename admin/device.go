package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// devicesPerPage is how many devices the device list shows at once, and
// maxPage the last page anyone can ask for.
const (
	devicesPerPage = 50
	maxPage        = 1 << 20
)

// deviceRow is a device and whether it is connected now.
type deviceRow struct {
	recipes.Device
	Connected bool `json:"connected"`
}

// deviceFilter picks devices from the registry: Text is part of the id
// (any case), State "online", "offline" or "" for all.
type deviceFilter struct {
	Text   string
	State  string
	Offset int
	Limit  int
}

// findDevices returns one page of the devices matching f and how many
// match in all. Only the ids are filtered, so a page costs one read of
// the id set and one of the devices shown, however large the fleet.
func (s *Server) findDevices(ctx context.Context, f deviceFilter) ([]deviceRow, int, error) {
	switch f.State {
	case "", "online", "offline":
	default:
		return nil, 0, recipes.Errorf(recipes.EINVALID, "state must be online or offline, not %q", f.State)
	}
	ids, err := s.store.DeviceIDs(ctx)
	if err != nil {
		return nil, 0, err
	}
	online := s.connected()
	text := strings.ToLower(f.Text)
	ids = slices.DeleteFunc(ids, func(id string) bool {
		if text != "" && !strings.Contains(strings.ToLower(id), text) {
			return true
		}
		return f.State != "" && online[id] != (f.State == "online")
	})
	total := len(ids)
	from := min(max(f.Offset, 0), total)
	ids = ids[from:min(from+f.Limit, total)]
	devs, err := s.store.DevicesByID(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]deviceRow, len(devs))
	for i, d := range devs {
		rows[i] = deviceRow{Device: d, Connected: online[d.ID]}
	}
	return rows, total, nil
}

// connected returns the set of devices connected now; empty when this
// server commands no appliances.
func (s *Server) connected() map[string]bool {
	if s.opts.Appliances == nil {
		return nil
	}
	ids := s.opts.Appliances.ConnectedDevices()
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func (s *Server) deviceRow(ctx context.Context, id string) (deviceRow, error) {
	d, err := s.store.Device(ctx, id)
	if err != nil {
		return deviceRow{}, err
	}
	return deviceRow{Device: d, Connected: s.connected()[id]}, nil
}

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
	ID    string
	Model string
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
	ctx := c.Request().Context()
	f := deviceForm{ID: strings.TrimSpace(c.FormValue("id")), Model: c.FormValue("model")}
	secret, err := s.store.AddDevice(ctx, f.ID, f.Model)
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
	s.log.Info("device registered", "device", f.ID, "model", f.Model, "by", c.Get(staffKey))
	// The page is made from what was just stored, not read back: a failed
	// read must not lose a secret that exists nowhere else.
	d := deviceRow{Device: recipes.Device{ID: f.ID, Model: f.Model, Enabled: true, CreatedAt: time.Now().UTC()}}
	return s.showDevice(c, http.StatusOK, d, func(p *devicePage) { p.Secret, p.SecretNew = secret, true })
}

type devicePage struct {
	page
	Device deviceRow
	Models []string
	Model  string // the model form, as typed
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
	p := devicePage{page: s.page(c, d.ID, "devices"), Device: d, Models: recipes.Models, Model: d.Model}
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

// rotateDevice issues device id a new secret and returns the device and
// the secret. It reads the device first: once the secret is issued, a
// failed read must not lose it.
func (s *Server) rotateDevice(c echo.Context, id string) (deviceRow, string, error) {
	ctx := c.Request().Context()
	d, err := s.deviceRow(ctx, id)
	if err != nil {
		return deviceRow{}, "", err
	}
	secret, err := s.store.RotateDeviceSecret(ctx, d.ID)
	if err != nil {
		return deviceRow{}, "", err
	}
	s.log.Info("device secret rotated", "device", d.ID, "by", c.Get(staffKey))
	d.Connected = false // its session ends with the old secret
	return d, secret, nil
}

func (s *Server) handleDeviceDeleteForm(c echo.Context) error {
	return s.confirmDevice(c, "delete", "Delete %s", "Delete the device “%s”?",
		"It is disconnected and can never connect again with its secret. Registering the same ID later issues a new secret. This cannot be undone.",
		"Delete device")
}

func (s *Server) handleDeviceDelete(c echo.Context) error {
	id := param(c, "id")
	if err := s.store.DeleteDevice(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("device deleted", "device", id, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("Device “%s” deleted.", id))
	return c.Redirect(http.StatusSeeOther, "/devices")
}
