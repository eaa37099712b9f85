package identity

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// validateDeviceRecords checks every device and that no id is given twice.
func validateDeviceRecords(devs []recipes.DeviceRecord) error {
	var errs []error
	seen := make(map[string]bool, len(devs))
	for i := range devs {
		d := &devs[i]
		if err := d.Validate(); err != nil {
			errs = append(errs, err)
		} else if seen[d.ID] {
			errs = append(errs, recipes.Errorf(recipes.EINVALID, "device %q appears twice", d.ID))
		}
		seen[d.ID] = true
	}
	return errors.Join(errs...)
}

// devicePlan is what a sync changes in the device registry.
type devicePlan struct {
	changes []recipes.DeviceChange
	writes  []deviceWrite
	issued  map[string]string // id -> secret issued, of new devices without a hash
}

type deviceWrite struct {
	id     string
	added  bool
	revoke bool  // its session was admitted with what changes
	fields []any // field, value, ... to HSET
}

// planDevices compares devs with the registry under WATCH of their keys,
// so that a device command meanwhile (add, rotate, disable, delete) makes
// the sync start again. New devices without a secret hash get the secret
// secrets holds for them, or a fresh one kept there; with secrets nil (a
// dry run) none is made. If issuing is false they are refused instead.
// Registered devices keep their secret and enabled flag unless
// imp.Update.
func (s *Store) planDevices(ctx context.Context, tx *redis.Tx, imp recipes.DeviceImport, issuing bool, secrets map[string]string) (*devicePlan, error) {
	plan := &devicePlan{}
	devs := imp.Devices
	if len(devs) == 0 {
		return plan, nil
	}
	const op = "sync devices"
	replies := make([]*redis.SliceCmd, len(devs))
	for start := 0; start < len(devs); start += bulkChunk {
		chunk := devs[start:min(start+bulkChunk, len(devs))]
		keys := make([]string, len(chunk))
		for i, d := range chunk {
			keys[i] = s.keys.dev(d.ID)
		}
		if err := tx.Watch(ctx, keys...).Err(); err != nil {
			return nil, s.edge.Err(op, err)
		}
		_, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range keys {
				replies[start+i] = p.HMGet(ctx, key, "model", "secret", "enabled")
			}
			return nil
		})
		if err != nil {
			return nil, s.edge.Err(op, err)
		}
	}
	var refused []error
	for i := range devs {
		d := &devs[i]
		st := storedDevice(replies[i].Val())
		enabled := "0"
		if d.IsEnabled() {
			enabled = "1"
		}
		if !st.exists {
			hash := d.SecretHash
			if hash == "" {
				if !issuing {
					refused = append(refused, &recipes.ValidationError{Kind: "device", ID: d.ID, Fields: []recipes.FieldError{{
						Field: "secret_hash", Message: "is required for a device that is not registered yet, unless a secret is issued to it",
					}}})
					continue
				}
				if secrets != nil {
					secret, ok := secrets[d.ID]
					if !ok {
						var err error
						if secret, err = newDeviceSecret(); err != nil {
							return nil, err
						}
						secrets[d.ID] = secret
					}
					if plan.issued == nil {
						plan.issued = make(map[string]string)
					}
					plan.issued[d.ID] = secret
					hash = deviceHash(secret)
				}
			}
			plan.writes = append(plan.writes, deviceWrite{id: d.ID, added: true, fields: []any{"model", d.Model, "secret", hash, "enabled", enabled}})
			plan.changes = append(plan.changes, recipes.DeviceChange{ID: d.ID, Op: recipes.ItemAdded})
			continue
		}
		ch := recipes.DeviceChange{ID: d.ID}
		var fields []any
		revoke := false
		if st.model != d.Model {
			fields, revoke = append(fields, "model", d.Model), true
			ch.FromModel, ch.Model = st.model, d.Model
		}
		// Without Update, or left out, the secret and enabled flag keep
		// what staff set: a fleet file re-seeded must not give back a
		// secret rotated since (a leaked one) nor re-enable a device
		// disabled since (a stolen one).
		switch {
		case d.Enabled == nil || st.enabled == enabled:
		case imp.Update:
			fields, revoke = append(fields, "enabled", enabled), revoke || enabled == "0"
			on := enabled == "1"
			ch.Enabled = &on
		default:
			ch.KeptEnabled = true
		}
		switch {
		case d.SecretHash == "" || st.secret == d.SecretHash:
		case imp.Update:
			fields, revoke = append(fields, "secret", d.SecretHash), true
			ch.NewSecret = true
		default:
			ch.KeptSecret = true
		}
		if len(fields) > 0 {
			plan.writes = append(plan.writes, deviceWrite{id: d.ID, revoke: revoke, fields: fields})
			ch.Op = recipes.ItemChanged
		}
		if ch.Op != "" || ch.KeptEnabled || ch.KeptSecret {
			plan.changes = append(plan.changes, ch)
		}
	}
	if len(refused) > 0 {
		return nil, errors.Join(refused...)
	}
	return plan, nil
}

// queueDevices queues plan's writes; new devices are created at now.
func (s *Store) queueDevices(ctx context.Context, p redis.Pipeliner, plan *devicePlan, now time.Time) {
	created := strconv.FormatInt(now.UnixMilli(), 10)
	var added []string
	for _, w := range plan.writes {
		fields := w.fields
		if w.added {
			fields = append(fields[:len(fields):len(fields)], "created", created)
			added = append(added, w.id)
		}
		p.HSet(ctx, s.keys.dev(w.id), fields...)
		if w.revoke {
			s.queueRevoked(ctx, p, w.id)
		}
	}
	for start := 0; start < len(added); start += bulkChunk {
		chunk := added[start:min(start+bulkChunk, len(added))]
		members := make([]any, len(chunk))
		for i, id := range chunk {
			members[i] = id
		}
		p.SAdd(ctx, s.keys.devices, members...)
		p.HDel(ctx, s.keys.seen, chunk...) // a former device of that id
	}
}
