package admin

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/web"
)

// routes registers every route: the pages (signed-in staff, CSRF-checked
// forms), the JSON API (API tokens), metrics (either), and the
// unauthenticated health and static endpoints.
func (s *Server) routes() {
	e := s.echo
	e.Use(
		middleware.Recover(),
		s.securityHeaders,
		middleware.BodyLimit(s.opts.BodyLimit),
	)

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/metrics", s.metricsHandler(), s.requireMetricsReader)
	e.GET("/favicon.ico", s.handleFavicon)
	e.StaticFS("/static", web.Static())

	csrf := s.csrf()
	public := []echo.MiddlewareFunc{csrf}
	e.GET("/login", s.handleLoginForm, public...)
	e.POST("/login", s.handleLogin, public...) // throttled: see loginThrottle

	staff := []echo.MiddlewareFunc{s.requireStaff, csrf}
	e.POST("/logout", s.handleLogout, staff...)
	e.GET("/", s.handleHome, staff...)
	e.GET("/dashboard", s.handleDashboard, staff...)

	e.GET("/categories", s.handleCategoryIndex, staff...)
	e.GET("/categories/new", s.handleCategoryNew, staff...)
	e.POST("/categories/new", s.handleCategoryCreate, staff...)
	e.GET("/categories/:slug", s.handleCategoryView, staff...)
	e.GET("/categories/:slug/edit", s.handleCategoryEdit, staff...)
	e.POST("/categories/:slug/edit", s.handleCategoryUpdate, staff...)
	e.POST("/categories/:slug/move", s.handleCategoryMove, staff...)
	e.POST("/categories/:slug/publish", s.handleCategoryPublish, staff...)
	e.GET("/categories/:slug/delete", s.handleCategoryDeleteForm, staff...)
	e.POST("/categories/:slug/delete", s.handleCategoryDelete, staff...)
	e.GET("/categories/:slug/recipes/new", s.handleRecipeNew, staff...)
	e.POST("/categories/:slug/recipes/new", s.handleRecipeCreate, staff...)

	e.GET("/recipes/:id", s.handleRecipeEdit, staff...)
	e.POST("/recipes/:id", s.handleRecipeSave, staff...)
	e.POST("/recipes/:id/publish", s.handleRecipePublish, staff...)
	e.GET("/recipes/:id/discard", s.handleRecipeDiscardForm, staff...)
	e.POST("/recipes/:id/discard", s.handleRecipeDiscard, staff...)
	e.POST("/recipes/:id/move", s.handleRecipeMove, staff...)
	e.POST("/recipes/:id/send", s.handleRecipeSend, staff...)
	e.GET("/recipes/:id/delete", s.handleRecipeDeleteForm, staff...)
	e.POST("/recipes/:id/delete", s.handleRecipeDelete, staff...)

	e.GET("/devices", s.handleDeviceIndex, staff...)
	e.POST("/devices", s.handleDeviceCreate, staff...)
	e.GET("/devices/:id", s.handleDeviceView, staff...)
	e.POST("/devices/:id/model", s.handleDeviceModel, staff...)
	e.POST("/devices/:id/enable", s.handleDeviceEnable, staff...)
	e.POST("/devices/:id/disable", s.handleDeviceDisable, staff...)
	e.GET("/devices/:id/rotate", s.handleDeviceRotateForm, staff...)
	e.POST("/devices/:id/rotate", s.handleDeviceRotate, staff...)
	e.GET("/devices/:id/delete", s.handleDeviceDeleteForm, staff...)
	e.POST("/devices/:id/delete", s.handleDeviceDelete, staff...)

	e.GET("/tokens", s.handleTokenIndex, staff...)
	e.POST("/tokens", s.handleTokenCreate, staff...)
	e.GET("/tokens/:name/revoke", s.handleTokenRevokeForm, staff...)
	e.POST("/tokens/:name/revoke", s.handleTokenRevoke, staff...)

	e.GET("/api/openapi.json", s.handleOpenAPI)
	api := e.Group("/api", s.requireToken)
	catalog := requireScope(recipes.ScopeCatalog)
	api.GET("/categories", s.apiCategoryIndex, catalog)
	api.POST("/categories", s.apiCategoryCreate, catalog)
	api.PUT("/category-order", s.apiCategoryOrder, catalog)
	api.GET("/categories/:slug", s.apiCategoryView, catalog)
	api.PATCH("/categories/:slug", s.apiCategoryUpdate, catalog)
	api.DELETE("/categories/:slug", s.apiCategoryDelete, catalog)
	api.POST("/categories/:slug/publish", s.apiCategoryPublish, catalog)
	api.GET("/categories/:slug/recipes", s.apiRecipeIndex, catalog)
	api.POST("/recipes", s.apiRecipeCreate, catalog)
	api.GET("/recipes/:id", s.apiRecipeView, catalog)
	api.PUT("/recipes/:id", s.apiRecipeSave, catalog)
	api.DELETE("/recipes/:id", s.apiRecipeDelete, catalog)
	api.POST("/recipes/:id/move", s.apiRecipeMove, catalog)
	api.POST("/recipes/:id/publish", s.apiRecipePublish, catalog)
	api.POST("/recipes/:id/discard", s.apiRecipeDiscard, catalog)
	devices := requireScope(recipes.ScopeDevices)
	api.GET("/devices", s.apiDeviceIndex, devices)
	api.POST("/devices", s.apiDeviceCreate, devices)
	api.GET("/devices/:id", s.apiDeviceView, devices)
	api.PATCH("/devices/:id", s.apiDeviceUpdate, devices)
	api.DELETE("/devices/:id", s.apiDeviceDelete, devices)
	api.POST("/devices/:id/rotate", s.apiDeviceRotate, devices)
	api.POST("/devices/:id/rpc", s.apiDeviceCall, requireScope(recipes.ScopeCommands))
}

// handleHome sends editors to their main job.
func (s *Server) handleHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/categories")
}

func (s *Server) handleFavicon(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, "/static/favicon.svg")
}

// param returns the path parameter name, unescaped: Echo gives it as it
// was in the URL when the URL had escapes.
func param(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
