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
	was    deviceFields // as planned from: the write happens only if the device is still so
	added  bool
	revoke bool  // its session was admitted with what changes
	fields []any // field, value, ... to HSET
}

// planDevices compares devs with the registry. New devices without a
// secret hash get the secret secrets holds for them, or a fresh one kept
// there; with secrets nil (a dry run) none is made. If issuing is false
// they are refused instead. Registered devices keep their secret and
// enabled flag unless update.
func (s *Store) planDevices(ctx context.Context, devs []recipes.DeviceRecord, update, issuing bool, secrets map[string]string) (*devicePlan, error) {
	plan := &devicePlan{}
	if len(devs) == 0 {
		return plan, nil
	}
	const op = "sync devices"
	replies := make([]*redis.SliceCmd, len(devs))
	for start := 0; start < len(devs); start += bulkChunk {
		chunk := devs[start:min(start+bulkChunk, len(devs))]
		rctx, cancel := s.edge.RT(ctx)
		_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, d := range chunk {
				replies[start+i] = p.HMGet(rctx, s.keys.dev(d.ID), "model", "secret", "enabled", "locale")
			}
			return nil
		})
		cancel()
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
			fields := []any{"model", d.Model, "secret", hash, "enabled", enabled}
			if d.Locale != "" {
				fields = append(fields, "locale", d.Locale)
			}
			plan.writes = append(plan.writes, deviceWrite{id: d.ID, was: st, added: true, fields: fields})
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
		// A locale left out keeps the registered one, as staff set it.
		if d.Locale != "" && st.locale != d.Locale {
			fields, revoke = append(fields, "locale", d.Locale), true
			ch.FromLocale, ch.Locale = st.locale, d.Locale
		}
		// Without Update, or left out, the secret and enabled flag keep
		// what staff set: a fleet file re-seeded must not give back a
		// secret rotated since (a leaked one) nor re-enable a device
		// disabled since (a stolen one).
		switch {
		case d.Enabled == nil || st.enabled == enabled:
		case update:
			fields, revoke = append(fields, "enabled", enabled), revoke || enabled == "0"
			on := enabled == "1"
			ch.Enabled = &on
		default:
			ch.KeptEnabled = true
		}
		switch {
		case d.SecretHash == "" || st.secret == d.SecretHash:
		case update:
			fields, revoke = append(fields, "secret", d.SecretHash), true
			ch.NewSecret = true
		default:
			ch.KeptSecret = true
		}
		if len(fields) > 0 {
			plan.writes = append(plan.writes, deviceWrite{id: d.ID, was: st, revoke: revoke, fields: fields})
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

// writeDeviceScript writes one device if it is still as planned: KEYS are
// the device's hash and last-seen key (one slot); ARGV are whether it
// existed ("1"/"0"), its model, secret, enabled flag and locale then,
// whether it is new ("1": its former last-seen time is dropped), the
// revocation channel (empty: none), the device id, then the fields to
// set. It returns 1 if it wrote, 0 if the device had changed.
const writeDeviceScript = `
local cur = redis.call('HMGET', KEYS[1], 'model', 'secret', 'enabled', 'locale')
local exists = '0'
if cur[1] or cur[2] or cur[3] then exists = '1' end
if exists ~= ARGV[1] then return 0 end
if exists == '1' and ((cur[1] or '') ~= ARGV[2] or (cur[2] or '') ~= ARGV[3] or (cur[3] or '') ~= ARGV[4] or (cur[4] or '') ~= ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 9))
if ARGV[6] == '1' then redis.call('DEL', KEYS[2]) end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[7], ARGV[8]) end
return 1`

// writeDevices writes plan's devices, new ones listed first (keys.go),
// each with [writeDeviceScript] in pipelines of scriptChunk, and returns
// the ids of those that had changed since they were planned and were not
// written, and whether any write was sent. A script is sent whole (EVAL, not EVALSHA) so that the embedded
// store's journal replays it as it ran.
func (s *Store) writeDevices(ctx context.Context, plan *devicePlan, now time.Time) (conflicts map[string]bool, sent bool, err error) {
	const op = "sync devices"
	var added []string
	for _, w := range plan.writes {
		if w.added {
			added = append(added, w.id)
		}
	}
	if err := s.listDevices(ctx, op, added...); err != nil {
		return nil, false, err
	}
	created := strconv.FormatInt(now.UnixMilli(), 10)
	conflicts = make(map[string]bool)
	for start := 0; start < len(plan.writes); start += scriptChunk {
		chunk := plan.writes[start:min(start+scriptChunk, len(plan.writes))]
		done := make([]*redis.Cmd, len(chunk))
		rctx, cancel := context.WithTimeout(ctx, 2*s.edge.Timeout())
		sent = true
		_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, w := range chunk {
				existed, added, channel := "0", "0", ""
				if w.was.exists {
					existed = "1"
				}
				fields := w.fields
				if w.added {
					added = "1"
					fields = append(fields[:len(fields):len(fields)], "created", created)
				}
				if w.revoke {
					channel = s.keys.revoked
				}
				args := append([]any{existed, w.was.model, w.was.secret, w.was.enabled, w.was.locale, added, channel, w.id}, fields...)
				done[i] = p.Eval(rctx, writeDeviceScript, []string{s.keys.dev(w.id), s.keys.seen(w.id)}, args...)
			}
			return nil
		})
		cancel()
		if err != nil {
			return nil, sent, s.edge.Err(op, err)
		}
		for i, w := range chunk {
			if n, _ := done[i].Int(); n == 0 {
				conflicts[w.id] = true
			}
		}
	}
	return conflicts, sent, nil
}
