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

// AddStaff creates a staff account with password, or a generated one if
// password is empty, and returns the generated password. It returns
// EINVALID for a bad name or password and ECONFLICT if the name is taken.
func (s *Store) AddStaff(ctx context.Context, name, password string) (generated string, err error) {
	if err := recipes.CheckName("staff", name); err != nil {
		return "", err
	}
	password, generated = newPassword(password)
	hash, err := s.hashPassword(password)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	if err := s.addStaff(ctx, recipes.Staff{Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}); err != nil {
		return "", err
	}
	return generated, nil
}

// SetPassword gives a staff account a new password, or a generated one if
// password is empty, ends all its sessions and returns the generated
// password. It returns EINVALID for a bad password and ENOTFOUND if there
// is no such account.
func (s *Store) SetPassword(ctx context.Context, name, password string) (generated string, err error) {
	st, err := s.Staff(ctx, name)
	if err != nil {
		return "", err
	}
	password, generated = newPassword(password)
	if st.PasswordHash, err = s.hashPassword(password); err != nil {
		return "", err
	}
	st.UpdatedAt = time.Now().UTC()
	if err := s.updateStaff(ctx, st); err != nil {
		return "", err
	}
	return generated, nil
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

// AuthenticateStaff returns the account name if password is its password.
// It returns ENOTFOUND if there is no such account and [ErrWrongPassword]
// (EINVALID) for a wrong password; either takes as long as a right one.
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
	return st, nil
}
