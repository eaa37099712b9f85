package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/recipes"
)

// The password policy, for the admin UI and the recipesd user command
// alike. Passwords are people's: unlike the secrets this package issues,
// they get a slow hash, bcrypt.

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPassword = 10
	MaxPassword = 72
)

// FirstAdmin is the name of the account made on first start.
const FirstAdmin = "admin"

// hashPassword checks password against the limits and hashes it with
// bcrypt at the store's cost.
func (s *Store) hashPassword(password string) (string, error) {
	switch {
	case utf8.RuneCountInString(password) < MinPassword:
		return "", recipes.Errorf(recipes.EINVALID, "the password must be at least %d characters long", MinPassword)
	case len(password) > MaxPassword:
		return "", recipes.Errorf(recipes.EINVALID, "the password must be at most %d bytes long", MaxPassword)
	}
	cost := s.opts.PasswordCost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("identity: hash password: %w", err)
	}
	return string(h), nil
}

// newPassword returns password, or a generated one if it is empty.
func newPassword(password string) (pw, generated string) {
	if password != "" {
		return password, ""
	}
	g := rand.Text() // 26 characters, 130 bits
	return g, g
}

// EnsureAdmin creates the account [FirstAdmin] when there is no staff
// account at all, with password, or a generated one if password is empty.
// It returns whether it created the account and the generated password,
// which the caller shows once.
func (s *Store) EnsureAdmin(ctx context.Context, password string) (created bool, generated string, err error) {
	n, err := s.CountStaff(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	generated, err = s.AddStaff(ctx, FirstAdmin, password)
	if recipes.ErrorCode(err) == recipes.ECONFLICT {
		return false, "", nil // another instance made it first
	}
	return err == nil, generated, err
}

// AddStaff creates an admin account, as every account was before staff
// had roles; see [Store.AddStaffAs].
func (s *Store) AddStaff(ctx context.Context, name, password string) (generated string, err error) {
	return s.AddStaffAs(ctx, name, password, recipes.RoleAdmin)
}

// AddStaffAs creates a staff account with role and password, or a
// generated one if password is empty, and returns the generated password.
// It returns EINVALID for a bad name, role or password and ECONFLICT if
// the name is taken.
func (s *Store) AddStaffAs(ctx context.Context, name, password, role string) (generated string, err error) {
	if err := recipes.CheckName("staff", name); err != nil {
		return "", err
	}
	if err := recipes.CheckRole(role); err != nil {
		return "", err
	}
	password, generated = newPassword(password)
	hash, err := s.hashPassword(password)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	st := recipes.Staff{Name: name, PasswordHash: hash, Role: role, CreatedAt: now, UpdatedAt: now}
	if err := s.addStaff(ctx, st); err != nil {
		return "", err
	}
	return generated, nil
}

// SetPassword gives a staff account a new password, or a generated one if
// password is empty, ends all its sessions and returns the generated
// password. It returns EINVALID for a bad password and ENOTFOUND if there
// is no such account.
func (s *Store) SetPassword(ctx context.Context, name, password string) (generated string, err error) {
	password, generated = newPassword(password)
	hash, err := s.hashPassword(password) // outside the transaction: bcrypt is slow on purpose
	if err != nil {
		return "", err
	}
	_, err = s.changeStaff(ctx, name, true, func(st *recipes.Staff) error {
		st.PasswordHash, st.UpdatedAt = hash, time.Now().UTC()
		return nil
	})
	if err != nil {
		return "", err
	}
	return generated, nil
}

// SetRole gives a staff account role; it takes effect on the account's
// next request (the admin server reads the account on every request), so
// its sessions go on. It returns EINVALID for a bad role, ENOTFOUND, and
// ECONFLICT for the last enabled admin.
func (s *Store) SetRole(ctx context.Context, name, role string) (recipes.Staff, error) {
	if err := recipes.CheckRole(role); err != nil {
		return recipes.Staff{}, err
	}
	return s.changeStaff(ctx, name, false, func(st *recipes.Staff) error {
		st.Role, st.UpdatedAt = role, time.Now().UTC()
		return nil
	})
}

// SetDisabled disables or enables a staff account. Disabling ends all its
// sessions at once and it cannot sign in until enabled again. It returns
// ENOTFOUND, and ECONFLICT for the last enabled admin.
func (s *Store) SetDisabled(ctx context.Context, name string, disabled bool) (recipes.Staff, error) {
	return s.changeStaff(ctx, name, disabled, func(st *recipes.Staff) error {
		st.Disabled, st.UpdatedAt = disabled, time.Now().UTC()
		return nil
	})
}

// ErrWrongPassword is returned by [Store.AuthenticateStaff] for a
// password that is not the account's.
var ErrWrongPassword = recipes.Errorf(recipes.EINVALID, "wrong name or password")

// dummyHash is compared against when the account does not exist, so that
// a wrong name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("recipesd-no-such-account"), bcrypt.DefaultCost)
	return h
})

// ErrStaffDisabled is returned by [Store.AuthenticateStaff] for the right
// password of a disabled account; only whoever knows the password learns
// that the account is disabled.
var ErrStaffDisabled = recipes.Errorf(recipes.ECONFLICT, "this account is disabled; an admin can enable it again")

// AuthenticateStaff returns the account name if password is its password.
// It returns ENOTFOUND if there is no such account, [ErrWrongPassword]
// (EINVALID) for a wrong password, either as slow as a right one, and
// [ErrStaffDisabled] (ECONFLICT) for a disabled account.
func (s *Store) AuthenticateStaff(ctx context.Context, name, password string) (recipes.Staff, error) {
	st, err := s.Staff(ctx, name)
	if recipes.ErrorCode(err) == recipes.ENOTFOUND {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return recipes.Staff{}, err
	}
	if err != nil {
		return recipes.Staff{}, err
	}
	// A hash bcrypt cannot read admits nobody either.
	if bcrypt.CompareHashAndPassword([]byte(st.PasswordHash), []byte(password)) != nil {
		return recipes.Staff{}, ErrWrongPassword
	}
	if st.Disabled {
		return recipes.Staff{}, ErrStaffDisabled
	}
	return st, nil
}
