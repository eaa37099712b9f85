package identity

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Device writes. They do not bump the catalog version: they change nothing
// an appliance can read, so they must not throw away every cached ETag.
// Whatever changes the secret, model, locale or enabled flag a device's
// session was admitted with, or deletes the device, revokes that session
// (device_revoke.go) in the same MULTI/EXEC. Each MULTI/EXEC touches one
// device's keys only, one Cluster slot (keys.go).

// AddDevice registers a device of the given model: [Store.RegisterDevice]
// without a locale.
func (s *Store) AddDevice(ctx context.Context, id, model string) (string, error) {
	return s.RegisterDevice(ctx, recipes.Device{ID: id, Model: model})
}

// RegisterDevice registers an enabled device with d's id, model and locale
// (stored canonical: "de-at" becomes "de-AT") and returns its secret,
// which is not stored and cannot be shown again. It returns the
// *recipes.ValidationError for a bad id, model or locale and ECONFLICT if
// the id is taken.
func (s *Store) RegisterDevice(ctx context.Context, d recipes.Device) (string, error) {
	d = recipes.Device{ID: d.ID, Model: d.Model, Locale: recipes.NormalizeLocale(d.Locale), Enabled: true}
	if err := d.Validate(); err != nil {
		return "", err
	}
	id := d.ID
	fields := []any{"model", d.Model, "secret", "", "enabled", "1", "created", ""}
	if d.Locale != "" {
		fields = append(fields, "locale", d.Locale)
	}
	secret, err := newDeviceSecret()
	if err != nil {
		return "", err
	}
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	// Listed first: the id set lives in another slot than the device, and
	// a write cut short between the two must leave an id that lists
	// nothing rather than a device that can connect but is never listed.
	if err := s.listDevices(ctx, "add device "+id, id); err != nil {
		return "", err
	}
	err = s.devWrite(ctx, "add device", id, func(exists bool) (redisconn.Queue, error) {
		if exists {
			return nil, recipes.Errorf(recipes.ECONFLICT, "device %q already exists", id)
		}
		fields[3], fields[7] = deviceHash(secret), now
		return func(ctx context.Context, p redis.Pipeliner) {
			p.HSet(ctx, s.keys.dev(id), fields...)
			p.Del(ctx, s.keys.seen(id)) // a former device of that id
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
	secret, err := newDeviceSecret()
	if err != nil {
		return "", err
	}
	err = s.devWrite(ctx, "rotate device secret", id, func(exists bool) (redisconn.Queue, error) {
		if !exists {
			return nil, deviceNotFound(id)
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			p.HSet(ctx, s.keys.dev(id), "secret", deviceHash(secret))
			s.queueRevoked(ctx, p, id)
		}, nil
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

// DeleteDevice removes a device and its secret. It returns ENOTFOUND for an
// unknown device.
func (s *Store) DeleteDevice(ctx context.Context, id string) error {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	var del *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		del = p.Del(ctx, s.keys.dev(id))
		p.Del(ctx, s.keys.seen(id))
		s.queueRevoked(ctx, p, id)
		return nil
	})
	if err != nil {
		return s.edge.Err("delete device "+id, err)
	}
	// Unlisted after the device is gone (see listDevices); also when it
	// was not there, to clear an id left by an add cut short.
	if err := s.edge.Err("delete device "+id, s.rdb.SRem(ctx, s.keys.devices, id).Err()); err != nil {
		return err
	}
	if del.Val() == 0 {
		return deviceNotFound(id)
	}
	return nil
}

// listDevices adds ids to the set of devices, before their hashes are
// written.
func (s *Store) listDevices(ctx context.Context, op string, ids ...string) error {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	for start := 0; start < len(ids); start += bulkChunk {
		chunk := ids[start:min(start+bulkChunk, len(ids))]
		members := make([]any, len(chunk))
		for i, id := range chunk {
			members[i] = id
		}
		if err := s.rdb.SAdd(ctx, s.keys.devices, members...).Err(); err != nil {
			return s.edge.Err(op, err)
		}
	}
	return nil
}

// devWrite WATCHes the device's hash, lets decide choose the commands from
// whether it exists, and runs them in one MULTI/EXEC, retrying when a
// concurrent write changed the hash in between: a field write never
// resurrects a deleted device as a partial hash.
func (s *Store) devWrite(ctx context.Context, op, id string, decide func(exists bool) (redisconn.Queue, error)) error {
	key := s.keys.dev(id)
	return s.edge.Update(ctx, op+" "+id, 3, []string{key}, func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
		n, err := tx.Exists(ctx, key).Result()
		if err != nil {
			return nil, s.edge.Err(op+" "+id, err)
		}
		return decide(n == 1)
	})
}
