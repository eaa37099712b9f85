package identity

import (
	"context"
	"errors"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// bulkChunk bounds the items of one command, far below Redis' limits.
const bulkChunk = 1000

// scriptChunk bounds the scripts of one pipeline, whose replies must all
// come within one round trip's timeout: the embedded store runs a script
// far slower than Redis (it compiles it every time).
const scriptChunk = 100

// ExportDevices returns every device as catalog files hold it, with its
// secret hash and enabled set, ordered by id.
func (s *Store) ExportDevices(ctx context.Context) ([]recipes.DeviceRecord, error) {
	rctx, cancel := s.edge.RT(ctx)
	ids, err := s.rdb.SMembers(rctx, s.keys.devices).Result()
	cancel()
	if err != nil {
		return nil, s.edge.Err("export devices", err)
	}
	slices.Sort(ids)
	out := make([]recipes.DeviceRecord, 0, len(ids))
	for start := 0; start < len(ids); start += bulkChunk {
		chunk := ids[start:min(start+bulkChunk, len(ids))]
		fields := make([]*redis.SliceCmd, len(chunk))
		rctx, cancel := s.edge.RT(ctx)
		_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for i, id := range chunk {
				fields[i] = p.HMGet(rctx, s.keys.dev(id), "model", "secret", "enabled", "locale")
			}
			return nil
		})
		cancel()
		if err != nil {
			return nil, s.edge.Err("export devices", err)
		}
		for i, id := range chunk {
			st := storedDevice(fields[i].Val())
			if !st.exists {
				continue // deleted between listing and reading
			}
			if !recipes.ValidSecretHash(st.secret) {
				return nil, corrupt(s.keys.dev(id), errors.New("secret: not a sha256 hash"))
			}
			enabled := st.enabled == "1"
			out = append(out, recipes.DeviceRecord{ID: id, Model: st.model, Locale: st.locale, Enabled: &enabled, SecretHash: st.secret})
		}
	}
	return out, nil
}

// deviceFields is the fields of a device hash that a sync compares.
type deviceFields struct {
	exists                         bool
	model, secret, enabled, locale string
}

// storedDevice reads the reply of HMGET model secret enabled locale. A
// device has the first three; the locale is optional.
func storedDevice(v []any) deviceFields {
	var st deviceFields
	for i, f := range []*string{&st.model, &st.secret, &st.enabled, &st.locale} {
		if i < len(v) {
			if s, ok := v[i].(string); ok {
				*f = s
				st.exists = st.exists || i < 3
			}
		}
	}
	return st
}
