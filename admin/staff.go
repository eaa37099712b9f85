package admin

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/recipesd/recipesd/recipes"
)

// The staff page: admins add accounts, reset passwords, change roles and
// disable accounts. A reset takes the password the admin types, or
// generates one when the field is left empty; a generated one is shown
// once, on the page that answers the POST, as API tokens are: it is never
// in a URL, a cookie or a log. Typing one lets an admin hand over a
// password agreed by phone; generating one means nobody picks a weak one.

type staffPage struct {
	page
	Accounts []staffRow
	Roles    []string
	Me       string

	Name, Role string // as typed in the add form
	Errors     formErrors

	// Shown once, after an add or a reset with a generated password.
	SecretFor, Secret string
}

type staffRow struct {
	recipes.Staff
	EffRole string
}

func (s *Server) staffPage(c echo.Context) (staffPage, error) {
	list, err := s.store.StaffList(c.Request().Context())
	if err != nil {
		return staffPage{}, err
	}
	p := staffPage{page: s.page(c, "Staff", "staff"), Roles: recipes.Roles, Role: recipes.RoleEditor}
	p.Me = p.page.Staff
	for _, st := range list {
		st.PasswordHash = "" // the template has no business with it
		p.Accounts = append(p.Accounts, staffRow{Staff: st, EffRole: st.EffectiveRole()})
	}
	return p, nil
}

func (s *Server) handleStaffIndex(c echo.Context) error {
	p, err := s.staffPage(c)
	if err != nil {
		return err
	}
	return c.Render(http.StatusOK, "staff.html", p)
}

// handleStaffCreate adds an account (editor unless chosen otherwise).
func (s *Server) handleStaffCreate(c echo.Context) error {
	name, role := strings.TrimSpace(c.FormValue("name")), c.FormValue("role")
	noteAudit(c, "name="+name, "role="+role)
	generated, err := s.store.AddStaffAs(c.Request().Context(), name, c.FormValue("password"), role)
	p, perr := s.staffPage(c)
	if perr != nil {
		return perr
	}
	if err != nil {
		code := recipes.ErrorCode(err)
		if code != recipes.EINVALID && code != recipes.ECONFLICT {
			return err
		}
		field := "name"
		switch msg := recipes.ErrorMessage(err); {
		case strings.Contains(msg, "password"):
			field = "password"
		case strings.Contains(msg, "role"):
			field = "role"
		}
		p.Name, p.Role = name, role
		p.Errors.add(field, recipes.ErrorMessage(err))
		return c.Render(http.StatusUnprocessableEntity, "staff.html", p)
	}
	s.log.Info("staff account created", "name", name, "role", role, "by", c.Get(staffKey))
	p.Flash = fmt.Sprintf("Staff account “%s” created as %s.", name, role)
	p.SecretFor, p.Secret = name, generated
	return c.Render(http.StatusOK, "staff.html", p)
}

// handleStaffPassword sets a new password and ends the account's sessions.
func (s *Server) handleStaffPassword(c echo.Context) error {
	name := param(c, "name")
	generated, err := s.store.SetPassword(c.Request().Context(), name, c.FormValue("password"))
	if err != nil {
		return s.flashError(c, err, "/staff")
	}
	if generated != "" {
		noteAudit(c, "", "password generated")
	}
	s.log.Info("staff password reset", "name", name, "by", c.Get(staffKey))
	p, err := s.staffPage(c)
	if err != nil {
		return err
	}
	p.Flash = fmt.Sprintf("New password set for “%s”; its sessions have ended.", name)
	p.SecretFor, p.Secret = name, generated
	return c.Render(http.StatusOK, "staff.html", p)
}

func (s *Server) handleStaffRole(c echo.Context) error {
	name, role := param(c, "name"), c.FormValue("role")
	noteAudit(c, "", "role="+role)
	if _, err := s.store.SetRole(c.Request().Context(), name, role); err != nil {
		return s.flashError(c, err, "/staff")
	}
	s.log.Info("staff role changed", "name", name, "role", role, "by", c.Get(staffKey))
	s.flash(c, fmt.Sprintf("“%s” is now %s.", name, role))
	return c.Redirect(http.StatusSeeOther, "/staff")
}

func (s *Server) handleStaffDisable(c echo.Context) error { return s.setStaffDisabled(c, true) }
func (s *Server) handleStaffEnable(c echo.Context) error  { return s.setStaffDisabled(c, false) }

func (s *Server) setStaffDisabled(c echo.Context, disabled bool) error {
	name := param(c, "name")
	if _, err := s.store.SetDisabled(c.Request().Context(), name, disabled); err != nil {
		return s.flashError(c, err, "/staff")
	}
	s.log.Info("staff account changed", "name", name, "disabled", disabled, "by", c.Get(staffKey))
	msg := fmt.Sprintf("“%s” is enabled again.", name)
	if disabled {
		msg = fmt.Sprintf("“%s” is disabled; its sessions have ended.", name)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/staff")
}
