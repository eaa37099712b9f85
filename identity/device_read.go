package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

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
	ids, err := s.DeviceIDs(ctx)
	if err != nil {
		return nil, err
	}
	return s.readDevices(ctx, ids)
}

// DeviceIDs returns the id of every registered device, sorted: one small
// read however large the fleet, so that a caller can filter and page the
// ids and read only the devices it shows ([Store.DevicesByID]).
func (s *Store) DeviceIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := s.edge.RT(ctx)
	defer cancel()
	ids, err := s.rdb.SMembers(ctx, s.keys.devices).Result()
	if err != nil {
		return nil, s.edge.Err("list devices", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// DevicesByID returns the devices with the given ids, in that order, in
// one round trip. Ids of devices that do not exist (deleted since they
// were listed) are skipped.
func (s *Store) DevicesByID(ctx context.Context, ids []string) ([]recipes.Device, error) {
	return s.readDevices(ctx, ids)
}

// readDevices reads the given devices in one round trip, skipping ids that
// do not exist (deleted between listing and reading).
func (s *Store) readDevices(ctx context.Context, ids []string) ([]recipes.Device, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.edge.Timeout()*time.Duration(1+len(ids)/1000))
	defer cancel()
	hashes := make([]*redis.MapStringStringCmd, len(ids))
	seen := make([]*redis.StringCmd, len(ids))
	cmds, _ := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			hashes[i] = p.HGetAll(ctx, s.keys.dev(id))
			seen[i] = p.Get(ctx, s.keys.seen(id))
		}
		return nil
	})
	if err := pipelineErr(cmds); err != nil {
		return nil, s.edge.Err("read devices", err)
	}
	out := make([]recipes.Device, 0, len(ids))
	for i, id := range ids {
		h := hashes[i].Val()
		if len(h) == 0 {
			continue
		}
		d, err := decodeDevice(id, h)
		if err != nil {
			return nil, corrupt(s.keys.dev(id), err)
		}
		if v := seen[i].Val(); v != "" {
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
		Locale:    h["locale"],
		Enabled:   h["enabled"] == "1",
		CreatedAt: time.UnixMilli(created).UTC(),
	}, nil
}

// pipelineErr returns the first error of cmds other than redis.Nil (a
// key that does not exist), which a pipeline reports as its error when it
// comes first.
func pipelineErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}
