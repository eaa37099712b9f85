package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/recipesd/recipesd/recipes"
)

// Every secret recipesd issues — device secrets, session ids, API tokens —
// is stored only as [hashSecret] of it, so that whoever reads the store
// cannot connect or sign in with what they find there. The secrets are
// random (128 bits and more), so they cannot be guessed or found in a
// dictionary, and a fast hash is enough to make a stolen hash useless. A
// slow password hash (bcrypt, argon2) would add nothing against brute
// force here and would turn a reconnect storm of 10,000 appliances into
// seconds of pure CPU. Passwords, which people choose, get bcrypt
// (password.go).

// hashSecret is the one hash of a secret: SHA-256, in lower-case hex.
// Device hashes are stored tagged with their scheme ([deviceHash]); session
// and token hashes are stored bare, as they always were.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// deviceHash is a device secret's hash as the registry and catalog files
// hold it: [recipes.SecretHashPrefix] and [hashSecret].
func deviceHash(secret string) string { return recipes.SecretHashPrefix + hashSecret(secret) }

// secretBytes is the size of a device secret: 256 random bits.
const secretBytes = 32

// newDeviceSecret returns a fresh device secret, base64url.
func newDeviceSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("identity: generate device secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
