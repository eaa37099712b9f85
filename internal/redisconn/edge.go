package redisconn

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// An Edge is one package's use of a go-redis client: the round-trip
// timeout it keeps, the name its errors carry, its optimistic writes
// (tx.go) and subscriptions (listen.go). It is safe for concurrent use.
type Edge struct {
	rdb       redis.UniversalClient
	pkg       string
	subject   string
	timeout   time.Duration
	conflicts atomic.Int64
}

// NewEdge returns package pkg's edge to rdb, which stays its caller's to
// close. pkg starts the text of every error it returns ("catalog: get
// version: ..."); subject is what, for users, a write that kept colliding
// found changing ("the catalog kept changing during ..."). timeout bounds
// one round trip; default [DefaultTimeout]. It does no I/O.
func NewEdge(rdb redis.UniversalClient, pkg, subject string, timeout time.Duration) *Edge {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Edge{rdb: rdb, pkg: pkg, subject: subject, timeout: timeout}
}

// Timeout returns the time one round trip may take.
func (e *Edge) Timeout() time.Duration { return e.timeout }

// RT bounds one Redis round trip.
func (e *Edge) RT(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, e.timeout)
}

// Err is [Err] for the edge's package.
func (e *Edge) Err(op string, err error) error { return Err(e.pkg, op, err) }

// Conflict counts a write that a concurrent one made start again outside
// [Edge.Update] (a compare-and-set script that found its key changed).
func (e *Edge) Conflict() { e.conflicts.Add(1) }

// Conflicts returns how many EXECs a concurrent write has aborted.
func (e *Edge) Conflicts() int64 { return e.conflicts.Load() }

// Bytes returns the value of cmd (a GET or HGET, say, inside the prepare
// step of a write), nil if there is none, or its error translated.
func (e *Edge) Bytes(op string, cmd *redis.StringCmd) ([]byte, error) {
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, e.Err(op, err)
	}
	return b, nil
}
