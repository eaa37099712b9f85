package identity

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// UpdateDevice applies u to a device in one MULTI/EXEC and returns the
// device. Only what differs is written. A new model or locale, or
// disabling, revokes the device's session (its session was admitted as
// the old model and locale, or must not outlive the change), so that its
// next request, after it reconnects, is answered as the device now is;
// re-enabling or an unchanged value does not. The locale is stored
// canonical. It returns the *recipes.ValidationError for an unknown model
// or a bad locale, validated before anything is written, and ENOTFOUND
// for an unknown device.
func (s *Store) UpdateDevice(ctx context.Context, id string, u recipes.DeviceUpdate) (recipes.Device, error) {
	if u.Locale != nil {
		locale := recipes.NormalizeLocale(*u.Locale)
		u.Locale = &locale
	}
	if u.Model != nil || u.Locale != nil {
		d := recipes.Device{ID: id, Model: recipes.Models[0]}
		if u.Model != nil {
			d.Model = *u.Model
		}
		if u.Locale != nil {
			d.Locale = *u.Locale
		}
		if err := d.Validate(); err != nil {
			return recipes.Device{}, err
		}
	}
	key := s.keys.dev(id)
	var out recipes.Device
	err := s.edge.Update(ctx, "update device "+id, 3, []string{key}, func(ctx context.Context, tx *redis.Tx) (redisconn.Queue, error) {
		h, err := tx.HGetAll(ctx, key).Result()
		if err != nil {
			return nil, s.edge.Err("update device "+id, err)
		}
		if len(h) == 0 {
			return nil, deviceNotFound(id)
		}
		if out, err = decodeDevice(id, h); err != nil {
			return nil, corrupt(key, err)
		}
		var fields []any
		revoke := false
		if u.Model != nil && *u.Model != out.Model {
			fields, revoke, out.Model = append(fields, "model", *u.Model), true, *u.Model
		}
		if u.Locale != nil && *u.Locale != out.Locale {
			fields, revoke, out.Locale = append(fields, "locale", *u.Locale), true, *u.Locale
		}
		if u.Enabled != nil && *u.Enabled != out.Enabled {
			v := "0"
			if *u.Enabled {
				v = "1"
			}
			fields, revoke, out.Enabled = append(fields, "enabled", v), revoke || !*u.Enabled, *u.Enabled
		}
		if len(fields) == 0 {
			return nil, redisconn.ErrNoChange
		}
		return func(ctx context.Context, p redis.Pipeliner) {
			p.HSet(ctx, key, fields...)
			if revoke {
				s.queueRevoked(ctx, p, id)
			}
		}, nil
	})
	if err != nil {
		return recipes.Device{}, err
	}
	return out, nil
}
