package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/recipesd/recipesd/recipes"
)

// Staff accounts and API tokens are managed here, for the UI and for the
// recipesd user and token commands alike, so that the rules (password
// length, hashing, token format) live in one place.

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPassword = 10
	MaxPassword = 72
)

// FirstAdmin is the name of the account made on first start.
const FirstAdmin = "admin"

// hashPassword checks password against the limits and hashes it with
// bcrypt at cost, or bcrypt's default cost if cost is 0.
func hashPassword(password string, cost int) (string, error) {
	switch {
	case utf8.RuneCountInString(password) < MinPassword:
		return "", recipes.Errorf(recipes.EINVALID, "the password must be at least %d characters long", MinPassword)
	case len(password) > MaxPassword:
		return "", recipes.Errorf(recipes.EINVALID, "the password must be at most %d bytes long", MaxPassword)
	}
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", fmt.Errorf("admin: hash password: %w", err)
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
// which the caller shows once. Passwords are hashed with bcrypt at cost, 0
// meaning bcrypt's default (tests lower it).
func EnsureAdmin(ctx context.Context, a Accounts, password string, cost int) (created bool, generated string, err error) {
	n, err := a.CountStaff(ctx)
	if err != nil || n > 0 {
		return false, "", err
	}
	generated, err = AddStaff(ctx, a, FirstAdmin, password, cost)
	if recipes.ErrorCode(err) == recipes.ECONFLICT {
		return false, "", nil // another instance made it first
	}
	return err == nil, generated, err
}

// AddStaff creates a staff account with password, or a generated one if
// password is empty, and returns the generated password (cost as for
// [EnsureAdmin]). It returns
// EINVALID for a bad name or password and ECONFLICT if the name is taken.
func AddStaff(ctx context.Context, a Accounts, name, password string, cost int) (generated string, err error) {
	if err := recipes.CheckName("staff", name); err != nil {
		return "", err
	}
	password, generated = newPassword(password)
	hash, err := hashPassword(password, cost)
	if err != nil {
		return "", err
	}
	now := time.Now().UTC()
	if err := a.AddStaff(ctx, recipes.Staff{Name: name, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}); err != nil {
		return "", err
	}
	return generated, nil
}

// SetPassword gives a staff account a new password, or a generated one if
// password is empty, ends all its sessions and returns the generated
// password. It returns ENOTFOUND if there is no such account.
func SetPassword(ctx context.Context, a Accounts, name, password string, cost int) (generated string, err error) {
	st, err := a.Staff(ctx, name)
	if err != nil {
		return "", err
	}
	password, generated = newPassword(password)
	if st.PasswordHash, err = hashPassword(password, cost); err != nil {
		return "", err
	}
	st.UpdatedAt = time.Now().UTC()
	if err := a.UpdateStaff(ctx, st); err != nil {
		return "", err
	}
	return generated, nil
}

// tokenPrefix starts every API token, so that one pasted by mistake is
// easy to recognise (and for secret scanners).
const tokenPrefix = "rcpd_"

// CreateToken creates the API token name, allowed scopes, on behalf of
// staff and returns its secret, which is stored only as a hash and must be
// shown once. It returns EINVALID for a bad name or scopes and ECONFLICT
// if the name is taken.
func CreateToken(ctx context.Context, a Accounts, name, staff string, scopes []string) (string, error) {
	if err := recipes.CheckName("token", name); err != nil {
		return "", err
	}
	if err := recipes.CheckScopes(scopes); err != nil {
		return "", err
	}
	secret := tokenPrefix + rand.Text() + rand.Text()
	t := recipes.APIToken{Name: name, Hash: hashSecret(secret), CreatedBy: staff, CreatedAt: time.Now().UTC(), Scopes: scopes}
	if err := a.AddAPIToken(ctx, t); err != nil {
		return "", err
	}
	return secret, nil
}

// errNoToken is the answer to an API request without a valid token.
var errNoToken = errors.New("admin: no valid API token")
