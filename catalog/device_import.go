package catalog

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Devices in bulk, for seeding a fleet from files and exporting it: the
// same keys as device.go, written in a sync's MULTI/EXEC, which bumps the
// catalog version only if published content changes too.

// SyncWithDevices is [Store.Sync] that also registers imp.Devices in the
// same MULTI/EXEC, all or nothing. A device that is not stored is added,
// with the secret hash given, enabled unless it says otherwise. A stored
// one gets the model given and keeps its secret and enabled flag, which
// staff may have changed since the file was written, unless imp.Update:
// then it also gets the enabled flag and the secret hash given, if given,
// which replaces its secret. As with the device commands, a new secret or
// model, or disabling, revokes the device's session (see
// [Store.WatchRevokedDevices]). A seed never removes devices, prune or
// not, and devices alone do not bump the catalog version, since
// appliances read nothing of them.
//
// A device new to the store without a secret hash gets a fresh secret.
// Unless it is nil, issue is called on every attempt to write, after the
// changes are worked out and before they are written, with the secrets
// that attempt stores, by id (an empty map if none), and must keep them,
// since the store keeps only hashes; if it fails, nothing is written. If
// the write is retried because the store changed meanwhile, the set may
// differ (a device registered meanwhile gets none) and an id keeps its
// secret across calls: the last call holds exactly the secrets stored.
// With issue nil, such a device is a *recipes.ValidationError on its
// "secret_hash", and nothing is written.
//
// It returns the changes of Sync and, in the order given, the devices
// added or changed and those whose secret hash or enabled flag given
// differ from what they keep without imp.Update. It returns the errors of
// Sync; a *recipes.ValidationError for an invalid device, EINVALID for an
// id given twice. An error wrapping [ErrOutcomeUnknown] means the write
// may have happened: keep the secrets of the last call to issue.
func (s *Store) SyncWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, imp recipes.DeviceImport, prune bool,
	issue func(secrets map[string]string) error,
) ([]recipes.Change, []recipes.DeviceChange, error) {
	return s.sync(ctx, syncArgs{cats: cats, recs: recs, devs: imp, prune: prune, issuing: issue != nil, issue: issue})
}

// PlanWithDevices returns the changes [Store.SyncWithDevices] would make
// now, writing nothing and issuing no secret. With issue false, a new
// device without a secret hash is refused as SyncWithDevices refuses it
// without an issue function.
func (s *Store) PlanWithDevices(ctx context.Context, cats []recipes.Category, recs []recipes.Recipe, imp recipes.DeviceImport, prune, issue bool) ([]recipes.Change, []recipes.DeviceChange, error) {
	return s.sync(ctx, syncArgs{cats: cats, recs: recs, devs: imp, prune: prune, dryRun: true, issuing: issue})
}

// ExportDevices returns every device as catalog files hold it, with its
// secret hash and enabled set, ordered by id.
func (s *Store) ExportDevices(ctx context.Context) ([]recipes.DeviceRecord, error) {
	k := s.devKeys()
	rctx, cancel := s.rt(ctx)
	ids, err := s.rdb.SMembers(rctx, k.index).Result()
	cancel()
	if err != nil {
		return nil, storeErr("export devices", err)
	}
	slices.Sort(ids)
	out := make([]recipes.DeviceRecord, 0, len(ids))
	for start := 0; start < len(ids); start += bulkChunk {
		chunk := ids[start:min(start+bulkChunk, len(ids))]
		fields := make([]*redis.SliceCmd, len(chunk))
		rctx, cancel := s.rt(ctx)
		_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, id := range chunk {
				fields[i] = p.HMGet(rctx, k.dev(id), "model", "secret", "enabled")
			}
			return nil
		})
		cancel()
		if err != nil {
			return nil, storeErr("export devices", err)
		}
		for i, id := range chunk {
			st := storedDevice(fields[i].Val())
			if !st.exists {
				continue // deleted between listing and reading
			}
			if !recipes.ValidSecretHash(st.secret) {
				return nil, corrupt(k.dev(id), errors.New("secret: not a sha256 hash"))
			}
			enabled := st.enabled == "1"
			out = append(out, recipes.DeviceRecord{ID: id, Model: st.model, Enabled: &enabled, SecretHash: st.secret})
		}
	}
	return out, nil
}

// deviceFields is the fields of a device hash that a sync compares.
type deviceFields struct {
	exists                 bool
	model, secret, enabled string
}

// storedDevice reads the reply of HMGET model secret enabled.
func storedDevice(v []any) deviceFields {
	var st deviceFields
	for i, f := range []*string{&st.model, &st.secret, &st.enabled} {
		if i < len(v) {
			if s, ok := v[i].(string); ok {
				*f, st.exists = s, true
			}
		}
	}
	return st
}

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
	k := s.devKeys()
	replies := make([]*redis.SliceCmd, len(devs))
	for start := 0; start < len(devs); start += bulkChunk {
		chunk := devs[start:min(start+bulkChunk, len(devs))]
		keys := make([]string, len(chunk))
		for i, d := range chunk {
			keys[i] = k.dev(d.ID)
		}
		if err := tx.Watch(ctx, keys...).Err(); err != nil {
			return nil, storeErr(op, err)
		}
		_, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range keys {
				replies[start+i] = p.HMGet(ctx, key, "model", "secret", "enabled")
			}
			return nil
		})
		if err != nil {
			return nil, storeErr(op, err)
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
						if secret, err = newSecret(); err != nil {
							return nil, err
						}
						secrets[d.ID] = secret
					}
					if plan.issued == nil {
						plan.issued = make(map[string]string)
					}
					plan.issued[d.ID] = secret
					hash = hashSecret(secret)
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
	k := s.devKeys()
	created := strconv.FormatInt(now.UnixMilli(), 10)
	var added []string
	for _, w := range plan.writes {
		fields := w.fields
		if w.added {
			fields = append(fields[:len(fields):len(fields)], "created", created)
			added = append(added, w.id)
		}
		p.HSet(ctx, k.dev(w.id), fields...)
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
		p.SAdd(ctx, k.index, members...)
		p.HDel(ctx, k.seen, chunk...) // a former device of that id
	}
}
