package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

type indexPage struct {
	MQTTAddr   string
	Categories int
}

func (s *Server) handleIndex(c echo.Context) error {
	cats, err := s.store.Categories(c.Request().Context())
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "index.html", indexPage{MQTTAddr: s.opts.MQTTAddr, Categories: len(cats)})
}

// handleHealth says the process is alive.
func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady says whether the catalog store answers.
func (s *Server) handleReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": "catalog store unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
