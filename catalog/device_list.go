package catalog

import (
	"context"
	"slices"

	"github.com/recipesd/recipesd/recipes"
)

// DeviceIDs returns the id of every registered device, sorted: one small
// read however large the fleet, so that a caller can filter and page the
// ids and read only the devices it shows ([Store.DevicesByID]).
func (s *Store) DeviceIDs(ctx context.Context) ([]string, error) {
	ctx, cancel := s.rt(ctx)
	defer cancel()
	ids, err := s.rdb.SMembers(ctx, s.devKeys().index).Result()
	if err != nil {
		return nil, storeErr("list devices", err)
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
