// Package identity keeps who may talk to recipesd: the devices allowed to
// connect, the staff who sign in to the admin UI, their sessions and the
// API tokens of programs, all in Redis, and the rules shared by the admin
// UI and the command line: how device secrets are issued and stored, the
// password policy, how session ids and API tokens look and are hashed.
//
// Its keys share the catalog's prefix; those of one device, or of one
// staff session, carry a hash tag of their own so that a Redis Cluster
// spreads them over its masters (see keys.go), and a seed registers
// devices after the catalog's MULTI/EXEC ([DeviceSeed]). None of its
// writes bump the catalog version: appliances read nothing of them.
package identity

import (
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// Options configures a [Store]. The zero value works.
type Options struct {
	// KeyPrefix namespaces every key as "{"+KeyPrefix+"}:..." or
	// KeyPrefix+":...{tag}..." (keys.go); it must be the catalog's.
	// Default "recipesd".
	KeyPrefix string
	// Timeout bounds one Redis round trip; default
	// [redisconn.DefaultTimeout].
	Timeout time.Duration
	// PasswordCost is the bcrypt cost of new passwords; 0 is bcrypt's
	// default (tests lower it).
	PasswordCost int
	Logger       *slog.Logger // nil discards logs
}

// Defaults for [Options].
const (
	DefaultKeyPrefix = "recipesd"
)

func (o *Options) ensureDefaults() {
	if o.KeyPrefix == "" {
		o.KeyPrefix = DefaultKeyPrefix
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Store is the identity registry. It is safe for concurrent use. It does
// not own its Redis client: whoever made the client closes it.
type Store struct {
	opts Options
	log  *slog.Logger
	keys keys
	rdb  redis.UniversalClient
	edge *redisconn.Edge // rdb with our timeout, errors and writes
}

// New returns the registry kept in rdb. It does no I/O.
func New(rdb redis.UniversalClient, opts Options) *Store {
	opts.ensureDefaults()
	return &Store{
		opts: opts,
		log:  opts.Logger.With("component", "identity"),
		keys: newKeys(opts.KeyPrefix),
		rdb:  rdb,
		edge: redisconn.NewEdge(rdb, "identity", "store", opts.Timeout),
	}
}
