package admin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// The device registry as the pages and the API both see it: finding
// devices, whether they are connected, and the changes staff make, logged
// with who made them.

// deviceRow is a device and whether it is connected now: to which node,
// since when (both absent when it is not).
type deviceRow struct {
	recipes.Device
	Connected      bool       `json:"connected"`
	Node           string     `json:"node,omitempty"`
	ConnectedSince *time.Time `json:"connected_since,omitempty"`
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
	text := strings.ToLower(f.Text)
	ids = slices.DeleteFunc(ids, func(id string) bool {
		return text != "" && !strings.Contains(strings.ToLower(id), text)
	})
	// Presence is looked up for the page's devices only, unless the
	// filter is by presence.
	var conns map[string]Connection
	if f.State != "" {
		if conns, err = s.connections(ctx, ids); err != nil {
			return nil, 0, err
		}
		ids = slices.DeleteFunc(ids, func(id string) bool {
			_, online := conns[id]
			return online != (f.State == "online")
		})
	}
	total := len(ids)
	from := min(max(f.Offset, 0), total)
	ids = ids[from:min(from+f.Limit, total)]
	if conns == nil {
		if conns, err = s.connections(ctx, ids); err != nil {
			return nil, 0, err
		}
	}
	devs, err := s.store.DevicesByID(ctx, ids)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]deviceRow, len(devs))
	for i, d := range devs {
		c, ok := conns[d.ID]
		rows[i] = withConnection(deviceRow{Device: d}, c, ok)
	}
	return rows, total, nil
}

func (s *Server) deviceRow(ctx context.Context, id string) (deviceRow, error) {
	d, err := s.store.Device(ctx, id)
	if err != nil {
		return deviceRow{}, err
	}
	conns, err := s.connections(ctx, []string{id})
	if err != nil {
		return deviceRow{}, err
	}
	c, ok := conns[id]
	return withConnection(deviceRow{Device: d}, c, ok), nil
}

// registerDevice registers an enabled device and returns it with its
// secret. The device is made from what was stored, not read back: a
// failed read must not lose a secret that exists nowhere else.
func (s *Server) registerDevice(c echo.Context, id, model, locale string) (deviceRow, string, error) {
	locale = recipes.NormalizeLocale(locale) // as the store keeps it
	detail := "model=" + model
	if locale != "" {
		detail += " locale=" + locale
	}
	noteAudit(c, "id="+id, detail)
	secret, err := s.store.RegisterDevice(c.Request().Context(), recipes.Device{ID: id, Model: model, Locale: locale})
	if err != nil {
		return deviceRow{}, "", err
	}
	s.log.Info("device registered", "device", id, "model", model, "locale", locale, "by", c.Get(staffKey))
	return deviceRow{Device: recipes.Device{ID: id, Model: model, Locale: locale, Enabled: true, CreatedAt: time.Now().UTC()}}, secret, nil
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
	d = withConnection(d, Connection{}, false) // its session ends with the old secret
	return d, secret, nil
}

// deleteDevice removes device id; ENOTFOUND.
func (s *Server) deleteDevice(c echo.Context, id string) error {
	if err := s.store.DeleteDevice(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("device deleted", "device", id, "by", c.Get(staffKey))
	return nil
}
