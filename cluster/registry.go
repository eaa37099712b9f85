// Package cluster lets any number of recipesd nodes share one Redis and
// nothing else. This first part is the node registry: each [Node] writes a
// heartbeat into one Redis hash, and a [Registry] lists the nodes and
// judges which are alive.
//
// Liveness is judged by the heartbeat time stored in each entry, never by
// Redis key expiry: the embedded store (miniredis) expires no key by
// itself, and one hash for every node has no per-field expiry anyway. The
// nodes' clocks must therefore agree to well within a liveness bound
// (NTP does).
package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// defaultKeyPrefix is the prefix of the registry's key when none is given;
// it is the catalog's default.
const defaultKeyPrefix = "recipesd"

// entry is a node as stored in the registry hash, one JSON value per node.
type entry struct {
	ID        string    `json:"id"`
	Addr      string    `json:"mqtt_addr"`
	Version   string    `json:"version"`
	Devices   int       `json:"devices"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"last_heartbeat"`
	Draining  bool      `json:"draining"`
	// DeadAfter is the writer's own liveness bound, so that every reader
	// (another node, the CLI) judges the node as the node meant it.
	DeadAfter time.Duration `json:"dead_after"`
	Every     time.Duration `json:"heartbeat_every"` // how often it beats
}

// Registry lists the nodes registered in Redis. It is safe for concurrent
// use and does not own its Redis client.
type Registry struct {
	edge *redisconn.Edge
	rdb  redis.UniversalClient
	key  string // the hash of every node, "{prefix}:nodes"
	now  func() time.Time

	prefix     string // the key prefix, without hash tag: per-device keys tag the device ID
	aliveCache aliveCache
}

// NewRegistry returns the registry kept in rdb under keyPrefix (default
// "recipesd", the catalog's); timeout bounds one round trip (default
// [redisconn.DefaultTimeout]); now is the clock liveness is judged by
// (default time.Now). It does no I/O.
func NewRegistry(rdb redis.UniversalClient, keyPrefix string, timeout time.Duration, now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	prefix := cmp.Or(keyPrefix, defaultKeyPrefix)
	return &Registry{
		edge: redisconn.NewEdge(rdb, "cluster", "node registry", timeout),
		rdb:  rdb,
		// The few node entries share one hash, hence one Cluster slot:
		// listing them is one HGETALL.
		key:    "{" + prefix + "}:nodes",
		now:    now,
		prefix: prefix,
	}
}

// forgetScript deletes a node's entry only if it is still the dead one the
// caller read: the node may have come back since.
var forgetScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0`)

// Nodes lists the registered nodes by ID. A node whose last heartbeat is
// older than its liveness bound is listed dead (Alive false) for one more
// bound, so that an operator sees which node died; after that its entry
// is deleted and it is no longer listed.
func (r *Registry) Nodes(ctx context.Context) ([]recipes.Node, error) {
	rctx, cancel := r.edge.RT(ctx)
	all, err := r.rdb.HGetAll(rctx, r.key).Result()
	cancel()
	if err != nil {
		return nil, r.edge.Err("list nodes", err)
	}
	now := r.now()
	nodes := make([]recipes.Node, 0, len(all))
	var errs []error
	for id, raw := range all {
		var e entry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			errs = append(errs, fmt.Errorf("cluster: node %q: entry in %s is not a node: %w", id, r.key, err))
			continue
		}
		age := now.Sub(e.Heartbeat)
		if age > 2*e.DeadAfter {
			errs = append(errs, r.forget(ctx, id, raw))
			continue
		}
		nodes = append(nodes, recipes.Node{
			ID: id, Addr: e.Addr, Version: e.Version, Devices: e.Devices,
			StartedAt: e.StartedAt, LastHeartbeat: e.Heartbeat, Draining: e.Draining,
			Alive: age <= e.DeadAfter,
		})
	}
	slices.SortFunc(nodes, func(a, b recipes.Node) int { return cmp.Compare(a.ID, b.ID) })
	return nodes, errors.Join(errs...)
}

// forget deletes the entry of node id if it is still raw.
func (r *Registry) forget(ctx context.Context, id, raw string) error {
	rctx, cancel := r.edge.RT(ctx)
	defer cancel()
	return r.edge.Err("forget dead node "+id, forgetScript.Run(rctx, r.rdb, []string{r.key}, id, raw).Err())
}
