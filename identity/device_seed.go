package identity

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Devices in bulk, for seeding a fleet from files and exporting it: the
// same keys as device.go, written in a catalog sync's MULTI/EXEC.

// DeviceSeed registers the devices of catalog files within a catalog
// sync, in its MULTI/EXEC, all or nothing: it is the catalog's
// SyncDevices, made by [Store.SeedDevices]. A device that is not stored is
// added, with the secret hash given, enabled unless it says otherwise. A
// stored one gets the model given and keeps its secret and enabled flag,
// which staff may have changed since the file was written, unless
// imp.Update: then it also gets the enabled flag and the secret hash
// given, if given, which replaces its secret. As with the device
// commands, a new secret or model, or disabling, revokes the device's
// session (see [Store.WatchRevokedDevices]). A seed never removes
// devices.
//
// A device new to the store without a secret hash gets a fresh secret if
// issue is not nil; otherwise it is a *recipes.ValidationError on its
// "secret_hash", and nothing is written. issue is called on every attempt
// to write (never in a dry run), after the changes are worked out and
// before they are written, with the secrets that attempt stores, by id
// (an empty map if none), and must keep them, since the store keeps only
// hashes; if it fails, nothing is written. If the write is retried because
// the store changed meanwhile, the set may differ (a device registered
// meanwhile gets none) and an id keeps its secret across calls: the last
// call holds exactly the secrets stored. If the sync's error wraps the
// catalog's ErrOutcomeUnknown, the write may have happened: keep the
// secrets of the last call to issue.
//
// A DeviceSeed serves one sync.
type DeviceSeed struct {
	s       *Store
	imp     recipes.DeviceImport
	issue   func(secrets map[string]string) error
	secrets map[string]string // issued so far, kept across attempts
	plan    *devicePlan
}

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
	if d.plan == nil {
		return nil
	}
	return d.plan.changes
}

// Plan compares the devices with the registry under WATCH of their keys
// in tx and, unless dryRun, hands the secrets it would store to issue.
func (d *DeviceSeed) Plan(ctx context.Context, tx *redis.Tx, dryRun bool) (bool, error) {
	issuing := d.issue != nil
	var secrets map[string]string
	if issuing && !dryRun {
		if d.secrets == nil {
			d.secrets = make(map[string]string)
		}
		secrets = d.secrets
	}
	plan, err := d.s.planDevices(ctx, tx, d.imp, issuing, secrets)
	if d.plan = plan; err != nil {
		return false, err
	}
	if issuing && !dryRun {
		// The secrets must be safe before their hashes are stored, and
		// every attempt hands over exactly the secrets it stores, none
		// included: an earlier attempt may have issued some to devices
		// registered since by someone else.
		issued := plan.issued
		if issued == nil {
			issued = make(map[string]string)
		}
		if err := d.issue(issued); err != nil {
			return false, fmt.Errorf("identity: keep the secrets issued: %w", err)
		}
	}
	return len(plan.writes) > 0, nil
}

// Queue queues the writes of the last Plan; new devices are created at
// now.
func (d *DeviceSeed) Queue(ctx context.Context, p redis.Pipeliner, now time.Time) {
	d.s.queueDevices(ctx, p, d.plan, now)
}
