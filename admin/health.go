package admin

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// handleHealth says the process is alive.
func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady says whether the node takes new devices: it does not drain,
// and the catalog store answers and can save changes (the store's own
// message says which it cannot).
func (s *Server) handleReady(c echo.Context) error {
	if s.opts.Drain != nil && s.opts.Drain.Draining() {
		// A load balancer sends no new device here: it would be sent
		// away at once.
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "draining"})
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		msg := "catalog store unreachable"
		if recipes.ErrorCode(err) == recipes.EUNAVAILABLE {
			msg = recipes.ErrorMessage(err)
		}
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": msg})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
