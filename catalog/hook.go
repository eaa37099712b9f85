package catalog

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// embedded is a [redis.Hook]: every command that may change data runs with
// the write lock held and is appended to the journal, fsynced, before its
// caller sees the result. Holding the lock across execution and append
// keeps the journal in execution order.
//
// A write runs before it is journaled, because only running it tells
// whether it takes effect: an EXEC aborts when a WATCHed key changed, and
// the hook cannot see which keys a connection WATCHes. Journaling first
// would put a transaction that never happened in the journal whenever a
// crash (or a failed cancel) came between the append and a failed EXEC,
// and replay, which has no concurrent writer, would apply it over the
// acknowledged writes it had lost to. So the journal only ever holds writes
// that took effect, in execution order, and the one window this order
// opens, a write in memory but not in the journal, is closed on both ends:
//
//   - a crash in it loses a write nobody was told succeeded;
//   - a failed append (full disk, file size limit, I/O error) rolls memory
//     back to what a restart would load (snapshot plus the fsynced records,
//     see [embedded.rollbackLocked]) before the caller hears of the failure,
//     and from then on every write is refused, so nothing is ever served
//     or acknowledged that a restart would forget. A write whose outcome is
//     unknown is treated the same way.
//
// Reads only ever see such a write while its writer still holds e.mu, and
// could not act on it: every later write waits for e.mu, then is refused.

// DialHook implements [redis.Hook].
func (e *embedded) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements [redis.Hook].
func (e *embedded) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !journaled(cmd.Name()) {
			return next(ctx, cmd)
		}
		return e.logged(ctx, []redis.Cmder{cmd}, false, func(ctx context.Context) error { return next(ctx, cmd) })
	}
}

// ProcessPipelineHook implements [redis.Hook] for pipelines and MULTI/EXEC.
func (e *embedded) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		body, tx := cmds, false
		if n := len(cmds); n >= 2 && cmds[0].Name() == "multi" && cmds[n-1].Name() == "exec" {
			body, tx = cmds[1:n-1], true
		}
		if !slices.ContainsFunc(body, func(c redis.Cmder) bool { return journaled(c.Name()) }) {
			return next(ctx, cmds)
		}
		return e.logged(ctx, body, tx, func(ctx context.Context) error { return next(ctx, cmds) })
	}
}

// logged runs cmds (through run) under the write lock and journals those
// that took effect as one record.
func (e *embedded) logged(ctx context.Context, cmds []redis.Cmder, tx bool, run func(context.Context) error) error {
	args := make([][]bstr, 0, len(cmds))
	for _, c := range cmds {
		if !journaled(c.Name()) {
			continue
		}
		a, err := cmdArgs(c)
		if err != nil {
			return refuse(cmds, err)
		}
		args = append(args, a)
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return refuse(cmds, redis.ErrClosed)
	}
	if f := e.failed.Load(); f != nil {
		return refuse(cmds, f)
	}
	// Once sent, the write happens in memory; the caller's deadline must
	// not make us give up on learning whether it did.
	err := run(context.WithoutCancel(ctx))

	var done [][]bstr
	switch {
	case tx && (err == nil || isReplyErr(err) && !errors.Is(err, redis.TxFailedErr) &&
		!redis.IsExecAbortError(err) && !transientReply(err)):
		done = args // EXEC ran; a command failing inside it changed nothing, on replay too
	case !tx && (err == nil || errors.Is(err, redis.Nil)):
		done = args
	case !isReplyErr(err) && !notSent(err):
		// It may have run: memory may hold what the journal does not.
		// It may have run: memory may hold what the journal does not. Once
		// memory is back to the durable state, the journal is fine and
		// later writes may go on (a timeout on a loaded machine must not
		// stop every write until restart).
		cause := fmt.Errorf("outcome of %s unknown: %w", cmds[0].Name(), err)
		if e.rollbackLocked(context.WithoutCancel(ctx)) == nil {
			e.log.Warn("outcome of a write unknown; undone", "command", cmds[0].Name(), "error", err)
			return refuse(cmds, &journalError{path: e.jr.path, err: cause, undone: true})
		}
		return refuse(cmds, e.failLocked(ctx, cause))
	}
	if len(done) == 0 {
		return err
	}
	if jerr := e.record(ctx, done); jerr != nil {
		return refuse(cmds, jerr)
	}
	return err
}

// journalError is why the embedded store refuses writes: its journal
// could not be written, so it cannot make a write durable.
//
// An undone one is a write whose outcome was unknown and that was undone
// to match the journal: that write failed, the store goes on.
type journalError struct {
	path   string
	err    error
	undone bool
}

func (e *journalError) Error() string {
	if e.undone {
		return fmt.Sprintf("catalog: journal %s: %v; the write was undone", e.path, e.err)
	}
	return fmt.Sprintf("catalog: journal %s: %v; refusing writes until restart", e.path, e.err)
}

func (e *journalError) Unwrap() error { return e.err }

// WritesRefused reports whether the store now refuses every write: how
// packages that do not know this type (identity) tell the user why.
func (e *journalError) WritesRefused() bool { return !e.undone }

// failLocked refuses every later write with cause and rolls memory back
// to the durable state. The caller holds e.mu.
func (e *embedded) failLocked(ctx context.Context, cause error) error {
	f := &journalError{path: e.jr.path, err: cause}
	e.failed.Store(f)
	e.log.Error("cannot journal a write; undoing it and refusing further writes until restart (see /readyz)",
		"journal", e.jr.path, "error", cause)
	_ = e.rollbackLocked(context.WithoutCancel(ctx)) // logs its own failure and fences memory off
	return f
}

// notSent reports whether err means that a command never reached
// miniredis: no connection could be had for it.
func notSent(err error) bool {
	var op *net.OpError
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) ||
		errors.Is(err, redis.ErrClosed) || errors.As(err, &op) && op.Op == "dial"
}

// refuse sets err on cmds, which did not take effect.
func refuse(cmds []redis.Cmder, err error) error {
	for _, c := range cmds {
		c.SetErr(err)
	}
	return err
}

// record appends one journal record for a write that has run; the caller
// holds e.mu. If the append fails, the write is undone (see failLocked).
func (e *embedded) record(ctx context.Context, cmds [][]bstr) error {
	line, err := encodeLine(record{Seq: e.seq + 1, Time: time.Now().UnixMilli(), Cmds: cmds})
	if err == nil {
		err = e.jr.append(line)
	}
	if err != nil {
		return e.failLocked(ctx, err)
	}
	e.seq++
	if e.jr.size >= e.compactAt {
		if err := e.compactLocked(); err != nil {
			// Not fatal: the journal still has everything.
			e.log.Error("cannot compact the journal", "error", err)
		}
	}
	return nil
}

// cmdArgs renders c's arguments as go-redis sends them.
func cmdArgs(c redis.Cmder) ([]bstr, error) {
	in := c.Args()
	out := make([]bstr, len(in))
	for i, a := range in {
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		case int:
			s = strconv.Itoa(v)
		case int64:
			s = strconv.FormatInt(v, 10)
		case int32:
			s = strconv.FormatInt(int64(v), 10)
		case uint64:
			s = strconv.FormatUint(v, 10)
		case uint32:
			s = strconv.FormatUint(uint64(v), 10)
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		case float32:
			s = strconv.FormatFloat(float64(v), 'f', -1, 64)
		case bool:
			s = "0"
			if v {
				s = "1"
			}
		case time.Duration:
			s = strconv.FormatInt(v.Nanoseconds(), 10)
		case time.Time:
			s = v.Format(time.RFC3339Nano)
		case net.IP:
			s = string(v)
		case encoding.BinaryMarshaler:
			b, err := v.MarshalBinary()
			if err != nil {
				return nil, fmt.Errorf("catalog: journal %s argument: %w", c.Name(), err)
			}
			s = string(b)
		case nil:
		default:
			return nil, fmt.Errorf("catalog: cannot journal a %T argument of %s", a, c.Name())
		}
		out[i] = bstr(s)
	}
	return out, nil
}

// journaled reports whether a command may change data. The list is of the
// commands that do not (reads, connection and transaction control,
// pub/sub); anything else, including commands unknown here, is journaled,
// so a gap in this list costs journal space, never data.
func journaled(name string) bool {
	switch name {
	case "get", "mget", "getrange", "strlen", "substr", "lcs", "exists", "type", "ttl", "pttl",
		"expiretime", "pexpiretime", "keys", "scan", "randomkey", "dbsize", "dump", "object", "memory",
		"hget", "hmget", "hgetall", "hkeys", "hvals", "hlen", "hexists", "hstrlen", "hscan",
		"hrandfield", "httl", "hpttl", "hexpiretime", "hpexpiretime",
		"zrange", "zrangebyscore", "zrangebylex", "zrevrange", "zrevrangebyscore", "zrevrangebylex",
		"zscore", "zmscore", "zcard", "zcount", "zlexcount", "zrank", "zrevrank", "zscan",
		"zrandmember", "zunion", "zinter", "zdiff", "zintercard",
		"smembers", "sismember", "smismember", "scard", "srandmember", "sscan", "sinter", "sunion",
		"sdiff", "sintercard", "lrange", "llen", "lindex", "lpos",
		"xrange", "xrevrange", "xlen", "xinfo", "bitcount", "getbit", "bitpos", "pfcount",
		"geopos", "geodist", "geohash", "geosearch", "georadius_ro", "georadiusbymember_ro", "sort_ro",
		"ping", "echo", "hello", "auth", "select", "client", "info", "time", "command", "config",
		"quit", "reset", "readonly", "readwrite", "role", "lastsave", "wait", "cluster",
		"watch", "unwatch", "multi", "exec", "discard",
		"publish", "spublish", "subscribe", "unsubscribe", "psubscribe", "punsubscribe",
		"ssubscribe", "sunsubscribe", "pubsub":
		return false
	}
	return true
}
