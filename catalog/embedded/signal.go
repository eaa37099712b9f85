package embedded

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// miniredis (v2.40.0, which we cannot patch) bumps a key's WATCH version
// on most writes, but not when these remove part of a key and leave the
// rest: HDEL (cmd_hash.go, cmdHdel), ZREM, ZREMRANGEBYSCORE/RANK/LEX (db.go,
// ssetRem) and XTRIM (cmd_stream.go, cmdXtrim); it bumps only when they
// empty the key, by deleting it. A MULTI/EXEC that WATCHed such a key would
// then succeed although the key changed after its reads: a lost update.
// Redis signals every command that modified a key (signalModifiedKey), and
// the catalog relies on that (see catalog/write.go). So after such a
// command took effect, the hook (see [Store.logged]) bumps the key's
// version itself, through miniredis' own API, without changing its
// content: nothing is journaled for it, and a restart loads the same data.
//
// It runs under the write lock, before the writer hears of its write, so
// every later EXEC (journaled, hence waiting for the lock) sees the bump.
// A WATCH that comes between the command and the bump merely fails its
// EXEC once more than Redis would, which a writer retries.

// signalled lists the keys whose version the store must bump after cmds
// ran: the keys of those commands above that removed something, and the
// keys of scripts, whose inner commands the hook cannot see (so a script
// that changed nothing costs a watcher of its keys one retry Redis would
// not). cmds hold their replies.
func signalled(cmds []redis.Cmder) []string {
	var keys []string
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			continue
		}
		switch name := c.Name(); name {
		case "hdel", "zrem", "zremrangebyscore", "zremrangebyrank", "zremrangebylex", "xtrim":
			if removed(c) > 0 {
				if k, ok := argString(c, 1); ok {
					keys = append(keys, k)
				}
			}
		case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
			n, _ := argString(c, 2)
			nkeys, err := strconv.Atoi(n)
			if err != nil {
				continue
			}
			for i := range nkeys {
				if k, ok := argString(c, 3+i); ok {
					keys = append(keys, k)
				}
			}
		}
	}
	return keys
}

// removed returns the count a removing command replied with.
func removed(c redis.Cmder) int64 {
	switch c := c.(type) {
	case *redis.IntCmd:
		return c.Val()
	case *redis.Cmd: // sent with Do
		n, _ := c.Int64()
		return n
	}
	return 0
}

// argString returns c's argument i as a string, as it was sent.
func argString(c redis.Cmder, i int) (string, bool) {
	args := c.Args()
	if i >= len(args) {
		return "", false
	}
	switch a := args[i].(type) {
	case string:
		return a, true
	case []byte:
		return string(a), true
	case int:
		return strconv.Itoa(a), true // EVAL's number of keys
	case int64:
		return strconv.FormatInt(a, 10), true
	}
	return "", false
}

// signal bumps the WATCH version of each of keys that still exists,
// leaving its content as it is. The caller holds e.mu, so no other write
// runs meanwhile.
func (e *Store) signal(ctx context.Context, keys []string) {
	for i, k := range keys {
		if containsBefore(keys, i) {
			continue
		}
		switch e.db.Type(k) {
		case "hash":
			// Deleting a field the hash does not have changes nothing but
			// the version (direct.go, hdel). No client knows e.noField.
			e.db.HDel(k, e.noField)
		case "zset":
			// Re-adding a member with its own score. SortedSet returns the
			// set itself, which only writes change, and they wait for e.mu.
			ss, err := e.db.SortedSet(k)
			if err != nil {
				continue
			}
			for m, score := range ss {
				_, _ = e.db.ZAdd(k, score, m)
				break
			}
		case "stream":
			// miniredis' API has no way to touch a stream; XDEL of an id no
			// entry can have (XADD refuses 0-0) bumps it and nothing else.
			if err := e.raw.XDel(ctx, k, "0-0").Err(); err != nil {
				e.log.Warn("cannot signal a change of a stream to WATCH", "key", k, "error", err)
			}
		}
	}
}

func containsBefore(keys []string, i int) bool {
	for _, k := range keys[:i] {
		if k == keys[i] {
			return true
		}
	}
	return false
}
