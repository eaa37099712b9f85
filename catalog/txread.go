package catalog

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// Reads inside a WATCH (the prepare step of a write, see write.go) of
// values that may be missing.

// getBytes returns the value at key in tx, or nil if there is none.
func getBytes(ctx context.Context, tx *redis.Tx, op, key string) ([]byte, error) {
	b, err := tx.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(op, err)
	}
	return b, nil
}

// hgetBytes returns field of the hash at key in tx, or nil if there is none.
func hgetBytes(ctx context.Context, tx *redis.Tx, op, key, field string) ([]byte, error) {
	b, err := tx.HGet(ctx, key, field).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr(op, err)
	}
	return b, nil
}
