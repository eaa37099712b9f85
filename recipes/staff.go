package recipes

import (
	"regexp"
	"time"
)

// MaxStaffName is the longest staff account or API token name.
const MaxStaffName = 32

// Staff is an editor's account on the admin UI.
type Staff struct {
	Name         string    `json:"name"`
	PasswordHash string    `json:"password_hash"` // bcrypt
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
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
