package recipes

import (
	"regexp"
	"slices"
	"strings"
	"time"
)

// MaxStaffName is the longest staff account or API token name.
const MaxStaffName = 32

// Staff is an editor's account on the admin UI.
type Staff struct {
	Name         string `json:"name"`
	PasswordHash string `json:"password_hash"` // bcrypt

	// Role says what the account may do (Role… constants). Accounts made
	// before staff had roles have none stored and are admins, as they
	// could do everything then: see [Staff.EffectiveRole].
	Role string `json:"role,omitempty"`
	// Disabled accounts cannot sign in, and their sessions end.
	Disabled bool `json:"disabled,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Roles of staff accounts.
const (
	// RoleAdmin may do everything: devices, API tokens, staff accounts,
	// commands to appliances, nodes, the audit log, and the catalog.
	RoleAdmin = "admin"
	// RoleEditor may change the catalog's content and nothing else.
	RoleEditor = "editor"
)

// Roles lists every role, most powerful first.
var Roles = []string{RoleAdmin, RoleEditor}

// EffectiveRole returns st's role; an account stored before roles
// existed is an admin.
func (st *Staff) EffectiveRole() string {
	if st.Role == "" {
		return RoleAdmin
	}
	return st.Role
}

// CheckRole returns an EINVALID error naming the roles if role is not one.
func CheckRole(role string) error {
	if slices.Contains(Roles, role) {
		return nil
	}
	return Errorf(EINVALID, "%q is not a role (%s)", role, strings.Join(Roles, ", "))
}

// Session is a signed-in editor. It is stored under a hash of its secret
// id, which only the editor's cookie holds.
type Session struct {
	Staff     string    `json:"staff"`
	CreatedAt time.Time `json:"created_at"`
}

// APIToken is a named credential for the JSON API. Only a hash of its
// secret is stored; the secret is shown once, when it is created.
type APIToken struct {
	Name      string    `json:"name"`
	Hash      string    `json:"hash"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	// Scopes say what the token may do (Scope… constants). Tokens made
	// before tokens had scopes have none stored: see [APIToken.Allowed].
	Scopes []string `json:"scopes,omitempty"`
}

// Scopes of API tokens. A token gets only what its program needs: an
// importer of recipes must not be able to re-key appliances and connect
// as one.
const (
	ScopeCatalog  = "catalog"  // categories and recipes
	ScopeDevices  = "devices"  // the device registry: register, re-key, disable, delete
	ScopeCommands = "commands" // commands to connected appliances
	ScopeMetrics  = "metrics"  // GET /metrics, for a Prometheus scraper
	ScopeAudit    = "audit"    // read the audit log (GET /api/audit)
)

// AllScopes lists every scope.
var AllScopes = []string{ScopeCatalog, ScopeDevices, ScopeCommands, ScopeMetrics, ScopeAudit}

// Allowed returns the scopes t has. A token stored before tokens had
// scopes keeps what it could do then: the catalog and commands, not the
// device registry, which came later.
func (t *APIToken) Allowed() []string {
	if t.Scopes == nil {
		return []string{ScopeCatalog, ScopeCommands}
	}
	return t.Scopes
}

// Allows reports whether t may act in scope.
func (t *APIToken) Allows(scope string) bool { return slices.Contains(t.Allowed(), scope) }

// CheckScopes returns an EINVALID error if scopes is empty or names a
// scope that does not exist, or names one twice.
func CheckScopes(scopes []string) error {
	if len(scopes) == 0 {
		return Errorf(EINVALID, "choose at least one scope (%s)", strings.Join(AllScopes, ", "))
	}
	for i, sc := range scopes {
		if !slices.Contains(AllScopes, sc) {
			return Errorf(EINVALID, "%q is not a scope (%s)", sc, strings.Join(AllScopes, ", "))
		}
		if slices.Contains(scopes[:i], sc) {
			return Errorf(EINVALID, "scope %q is given twice", sc)
		}
	}
	return nil
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ValidName reports whether s can name a staff account or an API token:
// 1 to MaxStaffName lower-case letters, digits, dots, underscores and
// hyphens, starting with a letter or digit.
func ValidName(s string) bool {
	return len(s) <= MaxStaffName && namePattern.MatchString(s)
}

// CheckName returns an EINVALID error naming what is wrong with a staff or
// token name, or nil.
func CheckName(kind, s string) error {
	if ValidName(s) {
		return nil
	}
	return Errorf(EINVALID, "%s name %q must be 1 to %d lower-case letters, digits, dots, underscores or hyphens, starting with a letter or digit", kind, s, MaxStaffName)
}
