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

	// Every row gets its guards from its rule: who is signed in, then the
	// audit record (so that a request refused by role or CSRF is recorded
	// too, with its actor), then the role, then the CSRF check.
	csrf := s.csrf()
	for _, r := range s.pages() {
		var mw []echo.MiddlewareFunc
		if r.who != public {
			mw = append(mw, s.requireStaff)
		}
		mw = append(mw, s.audited(r.method, r.who == public))
		if r.who == admin {
			mw = append(mw, requireAdmin)
		}
		e.Add(r.method, r.path, r.handle, append(mw, csrf)...)
	}

	e.GET("/api/openapi.json", s.handleOpenAPI)
	api := e.Group("/api", s.requireToken)
	for _, r := range s.apiRoutes() {
		api.Add(r.method, r.path, r.handle, s.audited(r.method, false), requireScope(r.scope))
	}
}

// access says who may use a page. Every page names one in its row, so
// none is left open by a forgotten middleware argument.
type access int

const (
	public access = iota // anyone: the sign-in form
	editor               // signed-in staff of any role
	admin                // signed-in admins only
)

// pageRoute is one route of the admin UI.
type pageRoute struct {
	method, path string
	handle       echo.HandlerFunc
	who          access
}

// apiRoute is one route of the JSON API and the token scope it needs.
type apiRoute struct {
	method, path string
	handle       echo.HandlerFunc
	scope        string
}

// pages lists every route of the admin UI with who may use it.
func (s *Server) pages() []pageRoute {
	return []pageRoute{
		{http.MethodGet, "/login", s.handleLoginForm, public},
		{http.MethodPost, "/login", s.handleLogin, public}, // throttled: see loginThrottle

		{http.MethodPost, "/logout", s.handleLogout, editor},
		{http.MethodGet, "/", s.handleHome, editor},
		{http.MethodGet, "/dashboard", s.handleDashboard, editor},

		{http.MethodGet, "/categories", s.handleCategoryIndex, editor},
		{http.MethodGet, "/categories/new", s.handleCategoryNew, editor},
		{http.MethodPost, "/categories/new", s.handleCategoryCreate, editor},
		{http.MethodGet, "/categories/:slug", s.handleCategoryView, editor},
		{http.MethodGet, "/categories/:slug/edit", s.handleCategoryEdit, editor},
		{http.MethodPost, "/categories/:slug/edit", s.handleCategoryUpdate, editor},
		{http.MethodPost, "/categories/:slug/move", s.handleCategoryMove, editor},
		{http.MethodPost, "/categories/:slug/publish", s.handleCategoryPublish, editor},
		{http.MethodPost, "/categories/:slug/schedule", s.handleCategorySchedule, editor},
		{http.MethodPost, "/categories/:slug/schedule/cancel", s.handleCategoryUnschedule, editor},
		{http.MethodGet, "/categories/:slug/delete", s.handleCategoryDeleteForm, editor},
		{http.MethodPost, "/categories/:slug/delete", s.handleCategoryDelete, editor},
		{http.MethodGet, "/categories/:slug/recipes/new", s.handleRecipeNew, editor},
		{http.MethodPost, "/categories/:slug/recipes/new", s.handleRecipeCreate, editor},
		{http.MethodGet, "/categories/:slug/translations/:lang", s.handleCategoryTranslation, editor},
		{http.MethodPost, "/categories/:slug/translations/:lang", s.handleCategoryTranslationSave, editor},
		{http.MethodGet, "/categories/:slug/translations/:lang/delete", s.handleCategoryTranslationDeleteForm, editor},
		{http.MethodPost, "/categories/:slug/translations/:lang/delete", s.handleCategoryTranslationDelete, editor},

		{http.MethodGet, "/recipes/:id", s.handleRecipeEdit, editor},
		{http.MethodPost, "/recipes/:id", s.handleRecipeSave, editor},
		{http.MethodPost, "/recipes/:id/publish", s.handleRecipePublish, editor},
		{http.MethodPost, "/recipes/:id/schedule", s.handleRecipeSchedule, editor},
		{http.MethodPost, "/recipes/:id/schedule/cancel", s.handleRecipeUnschedule, editor},
		{http.MethodGet, "/recipes/:id/discard", s.handleRecipeDiscardForm, editor},
		{http.MethodPost, "/recipes/:id/discard", s.handleRecipeDiscard, editor},
		{http.MethodPost, "/recipes/:id/move", s.handleRecipeMove, editor},
		{http.MethodPost, "/recipes/:id/send", s.handleRecipeSend, admin},
		{http.MethodGet, "/recipes/:id/delete", s.handleRecipeDeleteForm, editor},
		{http.MethodPost, "/recipes/:id/delete", s.handleRecipeDelete, editor},
		{http.MethodGet, "/recipes/:id/translations/:lang", s.handleRecipeTranslation, editor},
		{http.MethodPost, "/recipes/:id/translations/:lang", s.handleRecipeTranslationSave, editor},
		{http.MethodGet, "/recipes/:id/translations/:lang/delete", s.handleRecipeTranslationDeleteForm, editor},
		{http.MethodPost, "/recipes/:id/translations/:lang/delete", s.handleRecipeTranslationDelete, editor},

		{http.MethodGet, "/translations", s.handleMissingTranslations, editor},
		{http.MethodGet, "/languages", s.handleLanguages, admin},
		{http.MethodPost, "/languages", s.handleLanguagesChange, admin},

		{http.MethodGet, "/scheduled", s.handleScheduledIndex, editor},
		{http.MethodPost, "/scheduled/cancel", s.handleScheduledCancel, editor},
		{http.MethodGet, "/recipes/:id/history", s.handleRecipeHistory, editor},
		{http.MethodGet, "/recipes/:id/diff", s.handleRecipeDiff, editor},
		{http.MethodPost, "/recipes/:id/restore", s.handleRecipeRestore, editor},

		{http.MethodGet, "/devices", s.handleDeviceIndex, admin},
		{http.MethodPost, "/devices", s.handleDeviceCreate, admin},
		{http.MethodGet, "/devices/:id", s.handleDeviceView, admin},
		{http.MethodPost, "/devices/:id/model", s.handleDeviceModel, admin},
		{http.MethodPost, "/devices/:id/locale", s.handleDeviceLocale, admin},
		{http.MethodPost, "/devices/:id/enable", s.handleDeviceEnable, admin},
		{http.MethodPost, "/devices/:id/disable", s.handleDeviceDisable, admin},
		{http.MethodGet, "/devices/:id/rotate", s.handleDeviceRotateForm, admin},
		{http.MethodPost, "/devices/:id/rotate", s.handleDeviceRotate, admin},
		{http.MethodGet, "/devices/:id/delete", s.handleDeviceDeleteForm, admin},
		{http.MethodPost, "/devices/:id/delete", s.handleDeviceDelete, admin},

		{http.MethodGet, "/nodes", s.handleNodeIndex, admin},
		{http.MethodPost, "/nodes/:id/drain", s.handleNodeDrain, admin},

		{http.MethodGet, "/tokens", s.handleTokenIndex, admin},
		{http.MethodPost, "/tokens", s.handleTokenCreate, admin},
		{http.MethodGet, "/tokens/:name/revoke", s.handleTokenRevokeForm, admin},
		{http.MethodPost, "/tokens/:name/revoke", s.handleTokenRevoke, admin},

		{http.MethodGet, "/staff", s.handleStaffIndex, admin},
		{http.MethodPost, "/staff", s.handleStaffCreate, admin},
		{http.MethodPost, "/staff/:name/password", s.handleStaffPassword, admin},
		{http.MethodPost, "/staff/:name/role", s.handleStaffRole, admin},
		{http.MethodPost, "/staff/:name/disable", s.handleStaffDisable, admin},
		{http.MethodPost, "/staff/:name/enable", s.handleStaffEnable, admin},

		{http.MethodGet, "/audit", s.handleAuditIndex, admin},
		{http.MethodGet, "/audit/export", s.handleAuditExport, admin},
	}
}

// apiRoutes lists every route of the JSON API under /api with the scope
// a token needs for it.
func (s *Server) apiRoutes() []apiRoute {
	return []apiRoute{
		{http.MethodGet, "/categories", s.apiCategoryIndex, recipes.ScopeCatalog},
		{http.MethodPost, "/categories", s.apiCategoryCreate, recipes.ScopeCatalog},
		{http.MethodPut, "/category-order", s.apiCategoryOrder, recipes.ScopeCatalog},
		{http.MethodGet, "/categories/:slug", s.apiCategoryView, recipes.ScopeCatalog},
		{http.MethodPatch, "/categories/:slug", s.apiCategoryUpdate, recipes.ScopeCatalog},
		{http.MethodDelete, "/categories/:slug", s.apiCategoryDelete, recipes.ScopeCatalog},
		{http.MethodPost, "/categories/:slug/publish", s.apiCategoryPublish, recipes.ScopeCatalog},
		{http.MethodPost, "/categories/:slug/schedule", s.apiCategorySchedule, recipes.ScopeCatalog},
		{http.MethodDelete, "/categories/:slug/schedule", s.apiCategoryUnschedule, recipes.ScopeCatalog},
		{http.MethodGet, "/categories/:slug/recipes", s.apiRecipeIndex, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes", s.apiRecipeCreate, recipes.ScopeCatalog},
		{http.MethodGet, "/recipes/:id", s.apiRecipeView, recipes.ScopeCatalog},
		{http.MethodPut, "/recipes/:id", s.apiRecipeSave, recipes.ScopeCatalog},
		{http.MethodDelete, "/recipes/:id", s.apiRecipeDelete, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/move", s.apiRecipeMove, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/publish", s.apiRecipePublish, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/discard", s.apiRecipeDiscard, recipes.ScopeCatalog},
		{http.MethodPost, "/recipes/:id/schedule", s.apiRecipeSchedule, recipes.ScopeCatalog},
		{http.MethodDelete, "/recipes/:id/schedule", s.apiRecipeUnschedule, recipes.ScopeCatalog},
		{http.MethodGet, "/scheduled", s.apiScheduledIndex, recipes.ScopeCatalog},
		// Languages are catalog settings: a token that may delete categories
		// may declare languages too (tokens have scopes, not roles).
		{http.MethodGet, "/languages", s.apiLanguages, recipes.ScopeCatalog},
		{http.MethodPut, "/languages", s.apiLanguagesSet, recipes.ScopeCatalog},
		{http.MethodGet, "/recipes/:id/preview", s.apiRecipePreview, recipes.ScopeCatalog},
		{http.MethodGet, "/recipes/:id/revisions", s.apiRecipeRevisions, recipes.ScopeCatalog},
		{http.MethodGet, "/recipes/:id/revisions/:n", s.apiRecipeRevision, recipes.ScopeCatalog},
		{http.MethodGet, "/devices", s.apiDeviceIndex, recipes.ScopeDevices},
		{http.MethodPost, "/devices", s.apiDeviceCreate, recipes.ScopeDevices},
		{http.MethodGet, "/devices/:id", s.apiDeviceView, recipes.ScopeDevices},
		{http.MethodPatch, "/devices/:id", s.apiDeviceUpdate, recipes.ScopeDevices},
		{http.MethodDelete, "/devices/:id", s.apiDeviceDelete, recipes.ScopeDevices},
		{http.MethodPost, "/devices/:id/rotate", s.apiDeviceRotate, recipes.ScopeDevices},
		{http.MethodPost, "/devices/:id/rpc", s.apiDeviceCall, recipes.ScopeCommands},
		{http.MethodGet, "/nodes", s.apiNodeIndex, recipes.ScopeMetrics},
		{http.MethodGet, "/audit", s.apiAuditIndex, recipes.ScopeAudit},
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
