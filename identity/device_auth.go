package identity

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// AuthenticateDevice admits a device by its secret. It returns
// [recipes.ErrBadDeviceCredentials] for an unknown or disabled device or a
// wrong secret, and EUNAVAILABLE when the store cannot be reached.
func (s *Store) AuthenticateDevice(ctx context.Context, id, secret string) (recipes.Device, error) {
	given := deviceHash(secret) // hashed whatever happens: timing tells nothing
	if !recipes.ValidDeviceID(id) {
		return recipes.Device{}, recipes.ErrBadDeviceCredentials
	}
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	h, err := s.rdb.HGetAll(ctx, s.keys.dev(id)).Result()
	if err != nil {
		return recipes.Device{}, s.edge.Err("authenticate device "+id, err)
	}
	stored := h["secret"]
	if !strings.HasPrefix(stored, recipes.SecretHashPrefix) {
		stored = recipes.SecretHashPrefix + strings.Repeat("0", sha256.Size*2) // unknown device: compare anyway
	}
	ok := subtle.ConstantTimeCompare([]byte(given), []byte(stored)) == 1
	if !ok || len(h) == 0 || h["enabled"] != "1" {
		return recipes.Device{}, recipes.ErrBadDeviceCredentials
	}
	d, err := decodeDevice(id, h)
	if err != nil {
		return recipes.Device{}, corrupt(s.keys.dev(id), err)
	}
	return d, nil
}

// TouchDevices records when devices were last seen, in one pipeline so
// that a reconnect storm costs one round trip per Redis node (and,
// embedded, one fsync) per batch. Each device's time is a key of its own
// (keys.go), so that no single key takes every connect. A device deleted
// in the meantime may leave its time behind; it is never listed and is
// cleared if the id is registered again.
func (s *Store) TouchDevices(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.edge.Timeout()*time.Duration(1+len(seen)/5000))
	defer cancel()
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for id, t := range seen {
			p.Set(ctx, s.keys.seen(id), strconv.FormatInt(t.UnixMilli(), 10), 0)
		}
		return nil
	})
	return s.edge.Err("touch devices", err)
}
