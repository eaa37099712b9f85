package catalog

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Device registry. Keys (see keys.go for {p}):
//
//	{p}:dev:<id>   HASH  model, secret ("sha256:<hex>"), enabled ("1"/"0"),
//	                     created (unix ms)
//	{p}:devices    SET   every device id, for listing without SCAN
//	{p}:devseen    HASH  id -> unix ms of its last connect or disconnect
//
// Device writes do not bump the catalog version: they change nothing an
// appliance can read, so they must not throw away every cached ETag.
//
// Secrets are issued by the server as 256 random bits, so they cannot be
// guessed or found in a dictionary, and a fast hash is enough to make a
// stolen hash useless. A slow password hash (bcrypt, argon2) would add
// nothing against brute force here and would turn a reconnect storm of
// 10,000 appliances into seconds of pure CPU.
type devKeys struct {
	devPfx string
	index  string
	seen   string
}

func newDevKeys(prefix string) devKeys {
	p := "{" + prefix + "}:"
	return devKeys{devPfx: p + "dev:", index: p + "devices", seen: p + "devseen"}
}

func (k devKeys) dev(id string) string { return k.devPfx + id }

const (
	secretBytes  = 32
	secretScheme = recipes.SecretHashPrefix
)

// newSecret returns a fresh device secret: 256 random bits, base64url.
func newSecret() (string, error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("catalog: generate device secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return secretScheme + hex.EncodeToString(sum[:])
}

// AddDevice registers a device of the given model and returns its secret,
// which is not stored and cannot be shown again. It returns the
// *recipes.ValidationError for a bad id or model and ECONFLICT if the id
// is taken.
func (s *Store) AddDevice(ctx context.Context, id, model string) (string, error) {
	d := recipes.Device{ID: id, Model: model, Enabled: true}
	if err := d.Validate(); err != nil {
		return "", err
	}
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	k := s.devKeys()
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	err = s.devWrite(ctx, "add device "+id, id, func(exists bool) (queueFunc, error) {
		if exists {
			return nil, recipes.Errorf(recipes.ECONFLICT, "device %q already exists", id)
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			p.HSet(ctx, k.dev(id), "model", model, "secret", hashSecret(secret), "enabled", "1", "created", now)
			p.SAdd(ctx, k.index, id)
			p.HDel(ctx, k.seen, id) // a former device of that id
		}, nil
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// RotateDeviceSecret gives a device a new secret and returns it; the old
// one stops working at once, and the session it admitted is revoked (see
// [Store.WatchRevokedDevices]). It returns ENOTFOUND for an unknown device.
func (s *Store) RotateDeviceSecret(ctx context.Context, id string) (string, error) {
	secret, err := newSecret()
	if err != nil {
		return "", err
	}
	err = s.devUpdate(ctx, "rotate device secret", id, func(ctx context.Context, p redis.Pipeliner) {
		p.HSet(ctx, s.devKeys().dev(id), "secret", hashSecret(secret))
		s.queueRevoked(ctx, p, id)
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// SetDeviceEnabled enables or disables a device: [Store.UpdateDevice]
// with that alone.
func (s *Store) SetDeviceEnabled(ctx context.Context, id string, enabled bool) error {
	_, err := s.UpdateDevice(ctx, id, recipes.DeviceUpdate{Enabled: &enabled})
	return err
}

// SetDeviceModel changes a device's appliance model: [Store.UpdateDevice]
// with that alone.
func (s *Store) SetDeviceModel(ctx context.Context, id, model string) error {
	_, err := s.UpdateDevice(ctx, id, recipes.DeviceUpdate{Model: &model})
	return err
}

// UpdateDevice applies u to a device in one MULTI/EXEC and returns the
// device. Only what differs is written. A new model or disabling revokes
// the device's session (its session was admitted as the old model, or
// must not outlive the change); re-enabling or an unchanged value does
// not. It returns the *recipes.ValidationError for an unknown model,
// validated before anything is written, and ENOTFOUND for an unknown
// device.
func (s *Store) UpdateDevice(ctx context.Context, id string, u recipes.DeviceUpdate) (recipes.Device, error) {
	if u.Model != nil {
		d := recipes.Device{ID: id, Model: *u.Model}
		if err := d.Validate(); err != nil {
			return recipes.Device{}, err
		}
	}
	key := s.devKeys().dev(id)
	var out recipes.Device
	wctx, cancel := context.WithTimeout(ctx, 3*s.opts.Timeout)
	defer cancel()
	for range maxAttempts {
		var derr error
		err := s.rdb.Watch(wctx, func(tx *redis.Tx) error {
			h, err := tx.HGetAll(wctx, key).Result()
			if err != nil {
				return err
			}
			if len(h) == 0 {
				derr = deviceNotFound(id)
				return derr
			}
			if out, derr = decodeDevice(id, h); derr != nil {
				derr = corrupt(key, derr)
				return derr
			}
			var fields []any
			revoke := false
			if u.Model != nil && *u.Model != out.Model {
				fields, revoke, out.Model = append(fields, "model", *u.Model), true, *u.Model
			}
			if u.Enabled != nil && *u.Enabled != out.Enabled {
				v := "0"
				if *u.Enabled {
					v = "1"
				}
				fields, revoke, out.Enabled = append(fields, "enabled", v), revoke || !*u.Enabled, *u.Enabled
			}
			if len(fields) == 0 {
				return nil
			}
			_, err = tx.TxPipelined(wctx, func(p redis.Pipeliner) error {
				p.HSet(wctx, key, fields...)
				if revoke {
					s.queueRevoked(wctx, p, id)
				}
				return nil
			})
			return err
		}, key)
		switch {
		case derr != nil:
			return recipes.Device{}, derr
		case errors.Is(err, redis.TxFailedErr):
			continue
		case err != nil:
			return recipes.Device{}, storeErr("update device "+id, err)
		}
		return out, nil
	}
	return recipes.Device{}, recipes.Errorf(recipes.ECONFLICT, "device %q kept changing; try again", id)
}

// DeleteDevice removes a device and its secret. It returns ENOTFOUND for an
// unknown device.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	k := s.devKeys()
	ctx, cancel := s.rt(ctx)
	defer cancel()
	var del *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, k.dev(id))
		p.SRem(ctx, k.index, id)
		p.HDel(ctx, k.seen, id)
		s.queueRevoked(ctx, p, id)
		return nil
	})
	if err != nil {
		return storeErr("delete device "+id, err)
	}
	if del.Val() == 0 {
		return deviceNotFound(id)
	}
	return nil
}

// Device returns one device, or ENOTFOUND.
func (s *Store) Device(ctx context.Context, id string) (recipes.Device, error) {
	devs, err := s.readDevices(ctx, []string{id})
	if err != nil {
		return recipes.Device{}, err
	}
	if len(devs) == 0 {
		return recipes.Device{}, deviceNotFound(id)
	}
	return devs[0], nil
}

// Devices returns every device, ordered by id.
func (s *Store) Devices(ctx context.Context) ([]recipes.Device, error) {
	rctx, cancel := s.rt(ctx)
	ids, err := s.rdb.SMembers(rctx, s.devKeys().index).Result()
	cancel()
	if err != nil {
		return nil, storeErr("list devices", err)
	}
	slices.Sort(ids)
	return s.readDevices(ctx, ids)
}

// readDevices reads the given devices in one round trip, skipping ids that
// do not exist (deleted between listing and reading).
func (s *Store) readDevices(ctx context.Context, ids []string) ([]recipes.Device, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	k := s.devKeys()
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout*time.Duration(1+len(ids)/1000))
	defer cancel()
	hashes := make([]*redis.MapStringStringCmd, len(ids))
	var seen *redis.SliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			hashes[i] = p.HGetAll(ctx, k.dev(id))
		}
		seen = p.HMGet(ctx, k.seen, ids...)
		return nil
	})
	if err != nil {
		return nil, storeErr("read devices", err)
	}
	out := make([]recipes.Device, 0, len(ids))
	for i, id := range ids {
		h := hashes[i].Val()
		if len(h) == 0 {
			continue
		}
		d, err := decodeDevice(id, h)
		if err != nil {
			return nil, corrupt(k.dev(id), err)
		}
		if v, ok := seen.Val()[i].(string); ok {
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.LastSeen = time.UnixMilli(ms).UTC()
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDevice(id string, h map[string]string) (recipes.Device, error) {
	created, err := strconv.ParseInt(h["created"], 10, 64)
	if err != nil {
		return recipes.Device{}, fmt.Errorf("created: %w", err)
	}
	return recipes.Device{
		ID:        id,
		Model:     h["model"],
		Enabled:   h["enabled"] == "1",
		CreatedAt: time.UnixMilli(created).UTC(),
	}, nil
}

// AuthenticateDevice admits a device by its secret. It returns
// [recipes.ErrBadDeviceCredentials] for an unknown or disabled device or a
// wrong secret, and EUNAVAILABLE when the store cannot be reached.
func (s *Store) AuthenticateDevice(ctx context.Context, id, secret string) (recipes.Device, error) {
	given := hashSecret(secret) // hashed whatever happens: timing tells nothing
	if !recipes.ValidDeviceID(id) {
		return recipes.Device{}, recipes.ErrBadDeviceCredentials
	}
	ctx, cancel := s.rt(ctx)
	defer cancel()
	h, err := s.rdb.HGetAll(ctx, s.devKeys().dev(id)).Result()
	if err != nil {
		return recipes.Device{}, storeErr("authenticate device "+id, err)
	}
	stored := h["secret"]
	if !strings.HasPrefix(stored, secretScheme) {
		stored = secretScheme + strings.Repeat("0", sha256.Size*2) // unknown device: compare anyway
	}
	ok := subtle.ConstantTimeCompare([]byte(given), []byte(stored)) == 1
	if !ok || len(h) == 0 || h["enabled"] != "1" {
		return recipes.Device{}, recipes.ErrBadDeviceCredentials
	}
	d, err := decodeDevice(id, h)
	if err != nil {
		return recipes.Device{}, corrupt(s.devKeys().dev(id), err)
	}
	return d, nil
}

// TouchDevices records when devices were last seen, all in one command so
// that a reconnect storm costs one write (and, embedded, one fsync) per
// batch. A device deleted in the meantime may leave an entry behind; it is
// never listed and is cleared if the id is registered again.
func (s *Store) TouchDevices(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(seen))
	for id, t := range seen {
		args = append(args, id, strconv.FormatInt(t.UnixMilli(), 10))
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout*time.Duration(1+len(seen)/5000))
	defer cancel()
	return storeErr("touch devices", s.rdb.HSet(ctx, s.devKeys().seen, args...).Err())
}

func (s *Store) devKeys() devKeys { return newDevKeys(s.opts.KeyPrefix) }

// devUpdate changes an existing device atomically: ENOTFOUND if it is not
// there, so that a field write never resurrects a deleted device as a
// partial hash.
func (s *Store) devUpdate(ctx context.Context, op, id string, queue queueFunc) error {
	return s.devWrite(ctx, op+" "+id, id, func(exists bool) (queueFunc, error) {
		if !exists {
			return nil, deviceNotFound(id)
		}
		return queue, nil
	})
}

// devWrite WATCHes the device's hash, lets decide choose the commands from
// whether it exists, and runs them in one MULTI/EXEC, retrying when a
// concurrent write changed the hash in between.
func (s *Store) devWrite(ctx context.Context, op, id string, decide func(exists bool) (queueFunc, error)) error {
	ctx, cancel := context.WithTimeout(ctx, 3*s.opts.Timeout)
	defer cancel()
	key := s.devKeys().dev(id)
	for range maxAttempts {
		var derr error
		err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Exists(ctx, key).Result()
			if err != nil {
				return err
			}
			var queue queueFunc
			if queue, derr = decide(n == 1); derr != nil {
				return derr
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				queue(ctx, p)
				return nil
			})
			return err
		}, key)
		switch {
		case derr != nil:
			return derr
		case errors.Is(err, redis.TxFailedErr):
			continue
		case err != nil:
			return storeErr(op, err)
		}
		return nil
	}
	return recipes.Errorf(recipes.ECONFLICT, "device %q kept changing during %s; try again", id, op)
}

func deviceNotFound(id string) error {
	return recipes.Errorf(recipes.ENOTFOUND, "device %q not found", id)
}
