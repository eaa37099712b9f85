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

	e.GET("/nodes", s.handleNodeIndex, staff...)
	e.POST("/nodes/:id/drain", s.handleNodeDrain, staff...)

	e.GET("/tokens", s.handleTokenIndex, staff...)
	e.POST("/tokens", s.handleTokenCreate, staff...)
	e.GET("/tokens/:name/revoke", s.handleTokenRevokeForm, staff...)
	e.POST("/tokens/:name/revoke", s.handleTokenRevoke, staff...)

	e.GET("/api/openapi.json", s.handleOpenAPI)
	api := e.Group("/api", s.requireToken)
	// Each API route names the scope a token needs for it: a row cannot
	// leave it out, as a forgotten middleware argument could.
	for _, r := range []struct {
		method, path string
		handle       echo.HandlerFunc
		scope        string
	}{
		{http.MethodGet, "/categories", s.apiCategoryIndex, recipes.ScopeCatalog},
		{http.MethodPost, "/categories", s.apiCategoryCreate, recipes.ScopeCatalog},
		{http.MethodPut, "/category-order", s.apiCategoryOrder, recipes.ScopeCatalog},
		{http.MethodGet, "/categories/:slug", s.apiCategoryView, recipes.ScopeCatalog},
		{http.MethodPatch, "/categories/:slug", s.apiCategoryUpdate, recipes.ScopeCatalog},
		{http.MethodDelete, "/categories/:slug", s.apiCategoryDelete, recipes.ScopeCatalog},
		{http.MethodPost, "/categories/:slug/publish", s.apiCategoryPublish, recipes.ScopeCatalog},
		{http.MethodGet, "/categories/:slug/recipes", s.apiRecipeIndex, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes", s.apiRecipeCreate, recipes.ScopeCatalog},
		{http.MethodGet, "/recipes/:id", s.apiRecipeView, recipes.ScopeCatalog},
		{http.MethodPut, "/recipes/:id", s.apiRecipeSave, recipes.ScopeCatalog},
		{http.MethodDelete, "/recipes/:id", s.apiRecipeDelete, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/move", s.apiRecipeMove, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/publish", s.apiRecipePublish, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/discard", s.apiRecipeDiscard, recipes.ScopeCatalog},
		{http.MethodGet, "/devices", s.apiDeviceIndex, recipes.ScopeDevices},
		{http.MethodPost, "/devices", s.apiDeviceCreate, recipes.ScopeDevices},
		{http.MethodGet, "/devices/:id", s.apiDeviceView, recipes.ScopeDevices},
		{http.MethodPatch, "/devices/:id", s.apiDeviceUpdate, recipes.ScopeDevices},
		{http.MethodDelete, "/devices/:id", s.apiDeviceDelete, recipes.ScopeDevices},
		{http.MethodPost, "/devices/:id/rotate", s.apiDeviceRotate, recipes.ScopeDevices},
		{http.MethodPost, "/devices/:id/rpc", s.apiDeviceCall, recipes.ScopeCommands},
		{http.MethodGet, "/nodes", s.apiNodeIndex, recipes.ScopeMetrics},
	} {
		api.Add(r.method, r.path, r.handle, requireScope(r.scope))
	}
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
