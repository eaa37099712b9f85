package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/catalog/embedded"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// openRedis opens the Redis everything is stored in: a client of the one
// at c.RedisURL, or, without one, the embedded store in c.DataDir. The
// caller closes it with closeRedis after everything built on it.
func openRedis(ctx context.Context, c StoreConfig, timeout time.Duration, log *slog.Logger) (rdb redis.UniversalClient, closeRedis func() error, err error) {
	if c.RedisURL != "" {
		rdb, err := redisconn.New(c.RedisURL, timeout)
		if err != nil {
			return nil, nil, err
		}
		return rdb, rdb.Close, nil
	}
	emb, err := embedded.Open(ctx, embedded.Options{Dir: c.DataDir, Timeout: timeout, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	return emb.Client(), emb.Close, nil
}

// openedStore is the catalog a subcommand works on and the identity
// registry beside it, on the same Redis. Close closes both and the Redis.
type openedStore struct {
	*catalog.Store
	ids        *identity.Store
	audit      *audit.Log
	rdb        redis.UniversalClient // what both are kept in
	closeRedis func() error
}

// Close closes the catalog, then its Redis.
func (s *openedStore) Close() error { return errors.Join(s.Store.Close(), s.closeRedis()) }

// openStore opens the catalog store for a subcommand other than serve. A
// running server holds the embedded data directory; the error says so and
// nothing is touched.
func openStore(ctx context.Context, c StoreConfig, timeout time.Duration, log *slog.Logger) (*openedStore, error) {
	rdb, closeRedis, err := openRedis(ctx, c, timeout, log)
	var locked *embedded.LockedError
	if errors.As(err, &locked) {
		return nil, fmt.Errorf("%w (a running server holds it: stop the server, or point both at a Redis with -redis-url)", err)
	}
	if err != nil {
		return nil, err
	}
	store, err := catalog.Open(ctx, rdb, catalog.Options{KeyPrefix: c.KeyPrefix, Timeout: timeout, Logger: log, RevisionsKept: c.RevisionsKept})
	if err != nil {
		return nil, errors.Join(err, closeRedis())
	}
	ids, err := openIdentity(ctx, rdb, c, timeout, 0, log)
	if err != nil {
		return nil, errors.Join(err, store.Close(), closeRedis())
	}
	return &openedStore{Store: store, ids: ids, audit: openAudit(rdb, c, timeout), rdb: rdb, closeRedis: closeRedis}, nil
}

// openAudit returns the audit log on rdb.
func openAudit(rdb redis.UniversalClient, c StoreConfig, timeout time.Duration) *audit.Log {
	return audit.New(rdb, audit.Options{KeyPrefix: c.KeyPrefix, Keep: c.AuditKeep, MaxAge: c.AuditMaxAge, Timeout: timeout})
}

// record writes the audit entry of a command line change that ended with
// err: the actor is ctx's (run puts the OS user in it), action names the
// command ("device add"), target what it changed. A change that happened
// but could not be recorded is not undone, and the command does not fail
// for it: it is reported on stderr.
func (s *openedStore) record(ctx context.Context, stderr io.Writer, action, target, detail string, err error) {
	e := recipes.AuditEntry{Actor: recipes.ActorFrom(ctx), Action: "cli " + action, Target: target, Detail: detail, Outcome: recipes.AuditOK}
	if err != nil {
		e.Outcome = "error: " + recipes.ErrorMessage(err)
		if recipes.ErrorCode(err) == recipes.EINTERNAL {
			e.Outcome = "error: " + err.Error()
		}
	}
	if rerr := s.audit.Record(context.WithoutCancel(ctx), e); rerr != nil {
		fmt.Fprintf(stderr, "recipesd: warning: the audit log did not record this %s: %v\n", action, rerr)
	}
}

// cliActor is who runs a command: the OS user.
func cliActor(getenv func(string) string) recipes.Actor {
	name := ""
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = cmp.Or(getenv("USER"), getenv("USERNAME"), "unknown")
	}
	return recipes.Actor{Kind: recipes.ActorCLI, Name: name}
}
