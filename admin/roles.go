package admin

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// isAdmin reports whether c's signed-in staff is an admin; requireStaff
// put the role, read from the account on this request, in c.
func isAdmin(c echo.Context) bool {
	role, _ := c.Get(roleKey).(string)
	return role == recipes.RoleAdmin
}

// errAdminsOnly answers an editor on an admins' page.
var errAdminsOnly = echo.NewHTTPError(http.StatusForbidden,
	"Only admins may use this page; your account is an editor. Ask an admin if you need it.")

// requireAdmin lets admins through and answers anyone else 403: the
// guard of every page whose rule is admin.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !isAdmin(c) {
			return errAdminsOnly
		}
		return next(c)
	}
}
