package identity

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Devices in bulk, for seeding a fleet from files and exporting it: the
// same keys as device.go. Each device is written atomically on its own,
// after the catalog's MULTI/EXEC: on a Redis Cluster the devices' keys
// are spread over slots (keys.go), so no transaction can hold them and the
// catalog at once.

// DeviceSeed registers the devices of catalog files in a catalog sync: it
// is the catalog's SyncDevices, made by [Store.SeedDevices]. Plan reads
// the registry before the catalog is written and refuses what cannot be
// registered, so that bad input writes nothing; Write then writes each
// device atomically, after the catalog's transaction. A device that is
// not stored is added, with the secret hash given, enabled unless it says
// otherwise. A stored one gets the model given and keeps its secret and
// enabled flag, which staff may have changed since the file was written,
// unless imp.Update: then it also gets the enabled flag and the secret
// hash given, if given, which replaces its secret. As with the device
// commands, a new secret or model, or disabling, revokes the device's
// session (see [Store.WatchRevokedDevices]). A seed never removes
// devices.
//
// Each device's write checks that the device is still as planned; one
// changed meanwhile by a device command is planned and written again, so
// a staff change is never overwritten by what the file held before it.
// Writing is idempotent: a sync that failed while writing devices (the
// catalog then holds its changes) is finished by running it again, which
// writes only the devices still differing.
//
// A device new to the store without a secret hash gets a fresh secret if
// issue is not nil; otherwise it is a *recipes.ValidationError on its
// "secret_hash", and nothing is written. issue is called (never in a dry
// run) before anything is written, with the secrets the write will store,
// by id (an empty map if none), and must keep them, since the store keeps
// only hashes; if it fails, nothing is written. When devices changed
// meanwhile must be planned again, it is called again with the secrets
// stored so far and those the next round stores: an id keeps its secret
// across calls, a device registered meanwhile gets none, and the last call
// holds exactly the secrets stored. If the sync fails after a call to
// issue, some of them may be stored: keep the secrets of the last call.
//
// An error wrapping [ErrOutcomeUnknown] means some devices may be
// written.
//
// A DeviceSeed serves one sync.
type DeviceSeed struct {
	s       *Store
	imp     recipes.DeviceImport
	issue   func(secrets map[string]string) error
	secrets map[string]string // issued so far, kept across rounds
	plan    *devicePlan
	changes map[string]recipes.DeviceChange
}

// ErrOutcomeUnknown is wrapped by the error of a [DeviceSeed]'s Write
// that failed after it sent device writes: some devices may be
// registered, with the secrets last handed to issue.
var ErrOutcomeUnknown = errors.New("some devices may be written")

// SeedDevices returns the [DeviceSeed] of imp, issuing secrets through
// issue (nil: issue none).
func (s *Store) SeedDevices(imp recipes.DeviceImport, issue func(secrets map[string]string) error) *DeviceSeed {
	return &DeviceSeed{s: s, imp: imp, issue: issue}
}

// Validate checks every device and that no id is given twice: a
// *recipes.ValidationError for an invalid device, EINVALID for an id given
// twice.
func (d *DeviceSeed) Validate() error { return validateDeviceRecords(d.imp.Devices) }

// Size is how many devices d registers.
func (d *DeviceSeed) Size() int { return len(d.imp.Devices) }

// Changes returns, after the sync, in the order given, the devices added
// or changed and those whose secret hash or enabled flag given differ
// from what they keep without imp.Update.
func (d *DeviceSeed) Changes() []recipes.DeviceChange {
	var out []recipes.DeviceChange
	for _, dev := range d.imp.Devices {
		if ch, ok := d.changes[dev.ID]; ok {
			out = append(out, ch)
		}
	}
	return out
}

// Plan compares the devices with the registry and, unless dryRun, hands
// the secrets it would store to issue. It returns the
// *recipes.ValidationError of a device that cannot be registered.
func (d *DeviceSeed) Plan(ctx context.Context, dryRun bool) error {
	issuing := d.issue != nil
	var secrets map[string]string
	if issuing && !dryRun {
		d.secrets = make(map[string]string)
		secrets = d.secrets
	}
	plan, err := d.s.planDevices(ctx, d.imp.Devices, d.imp.Update, issuing, secrets)
	if err != nil {
		return err
	}
	d.plan, d.changes = plan, make(map[string]recipes.DeviceChange, len(plan.changes))
	for _, ch := range plan.changes {
		d.changes[ch.ID] = ch
	}
	if issuing && !dryRun {
		// The secrets must be safe before their hashes are stored.
		if err := d.handOver(nil, plan); err != nil {
			return err
		}
	}
	return nil
}

// handOver calls issue with the secrets stored so far and those plan
// stores.
func (d *DeviceSeed) handOver(stored map[string]string, plan *devicePlan) error {
	if d.issue == nil {
		return nil
	}
	all := maps.Clone(stored)
	if all == nil {
		all = make(map[string]string)
	}
	maps.Copy(all, plan.issued)
	if err := d.issue(all); err != nil {
		return fmt.Errorf("identity: keep the secrets issued: %w", err)
	}
	return nil
}

// Write writes the devices as the last Plan worked out, each atomically,
// planning again and writing those that changed since; new devices are
// created at now. It returns ECONFLICT if devices kept changing, and
// EUNAVAILABLE if Redis did not answer in time.
func (d *DeviceSeed) Write(ctx context.Context, now time.Time) error {
	if d.plan == nil {
		return fmt.Errorf("identity: device seed written before it was planned")
	}
	plan, stored := d.plan, map[string]string{}
	var redo []recipes.DeviceRecord
	for round := range redisconn.MaxAttempts {
		if round > 0 {
			var err error
			if plan, err = d.s.planDevices(ctx, redo, d.imp.Update, d.issue != nil, d.secrets); err != nil {
				return err
			}
			for _, dev := range redo {
				delete(d.changes, dev.ID)
			}
			for _, ch := range plan.changes {
				d.changes[ch.ID] = ch
			}
			if err := d.handOver(stored, plan); err != nil {
				return err
			}
		}
		conflicts, sent, err := d.s.writeDevices(ctx, plan, now)
		if err != nil && (sent || round > 0) {
			return fmt.Errorf("%w (%w)", err, ErrOutcomeUnknown)
		}
		if err != nil {
			return err
		}
		for id, secret := range plan.issued {
			if !conflicts[id] {
				stored[id] = secret
			}
		}
		redo = redo[:0:0]
		for _, dev := range d.imp.Devices {
			if conflicts[dev.ID] {
				redo = append(redo, dev)
			}
		}
		if len(redo) == 0 {
			return nil
		}
		d.s.edge.Conflict()
	}
	return recipes.Errorf(recipes.ECONFLICT, "devices kept changing while the seed wrote them; run it again")
}
