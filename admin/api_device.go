package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// apiDevice is a device as the API returns it; Secret only in the answer
// that issued it.
type apiDevice struct {
	deviceRow
	Secret string `json:"secret,omitempty"`
}

type deviceList struct {
	Items []deviceRow `json:"items"`
	Total int         `json:"total"`
}

func (s *Server) apiDeviceIndex(c echo.Context) error {
	f := deviceFilter{Text: c.QueryParam("q")}
	switch v := c.QueryParam("connected"); v {
	case "":
	case "true":
		f.State = "online"
	case "false":
		f.State = "offline"
	default:
		return recipes.Errorf(recipes.EINVALID, "connected must be true or false, not %q", v)
	}
	var err error
	if f.Offset, err = queryInt(c, "offset", 0, 0, 1<<30); err != nil {
		return err
	}
	if f.Limit, err = queryInt(c, "limit", 100, 1, 1000); err != nil {
		return err
	}
	rows, total, err := s.findDevices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, deviceList{Items: rows, Total: total})
}

func (s *Server) apiDeviceCreate(c echo.Context) error {
	var in struct {
		ID     string `json:"id"`
		Model  string `json:"model"`
		Locale string `json:"locale"`
	}
	if err := bindStrictJSON(c, &in); err != nil {
		return err
	}
	d, secret, err := s.registerDevice(c, in.ID, in.Model, in.Locale)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api"+deviceURL(in.ID))
	return c.JSON(http.StatusCreated, apiDevice{deviceRow: d, Secret: secret})
}

func (s *Server) apiDeviceView(c echo.Context) error {
	d, err := s.deviceRow(c.Request().Context(), param(c, "id"))
	return okJSON(c, d, err)
}

// apiDeviceUpdate changes a device's model, locale and/or enabled flag,
// all in one write: a bad request changes nothing.
func (s *Server) apiDeviceUpdate(c echo.Context) error {
	var u recipes.DeviceUpdate
	if err := bindStrictJSON(c, &u); err != nil {
		return err
	}
	id := param(c, "id")
	d, err := s.store.UpdateDevice(c.Request().Context(), id, u)
	if err != nil {
		return err
	}
	s.log.Info("device updated", "device", id, "model", d.Model, "locale", d.Locale, "enabled", d.Enabled, "by", c.Get(staffKey))
	conns, err := s.connections(c.Request().Context(), []string{id})
	if err != nil {
		return err
	}
	conn, ok := conns[id]
	return c.JSON(http.StatusOK, withConnection(deviceRow{Device: d}, conn, ok))
}

func (s *Server) apiDeviceRotate(c echo.Context) error {
	d, secret, err := s.rotateDevice(c, param(c, "id"))
	return okJSON(c, apiDevice{deviceRow: d, Secret: secret}, err)
}

func (s *Server) apiDeviceDelete(c echo.Context) error {
	if err := s.deleteDevice(c, param(c, "id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
