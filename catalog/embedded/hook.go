package embedded

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/redis/go-redis/v9"
)

// journalHook is the [redis.Hook] of a [Store]'s client: every command that may change data runs with
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
//     see [Store.rollbackLocked]) before the caller hears of the failure,
//     and from then on every write is refused, so nothing is ever served
//     or acknowledged that a restart would forget. A write whose outcome is
//     unknown is treated the same way.
//
// Reads only ever see such a write while its writer still holds e.mu, and
// could not act on it: every later write waits for e.mu, then is refused.

type journalHook struct{ e *Store }

// DialHook implements [redis.Hook].
func (h journalHook) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook implements [redis.Hook]. A PING fails once writes are
// refused, so that a health check sees it (as /readyz does).
func (h journalHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "ping" {
			if err := h.e.failure(); err != nil {
				return refuse([]redis.Cmder{cmd}, err)
			}
		}
		if !journaled(cmd.Name()) {
			return next(ctx, cmd)
		}
		return h.e.logged(ctx, []redis.Cmder{cmd}, false, func(ctx context.Context) error { return next(ctx, cmd) })
	}
}

// ProcessPipelineHook implements [redis.Hook] for pipelines and MULTI/EXEC.
func (h journalHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		body, tx := cmds, false
		if n := len(cmds); n >= 2 && cmds[0].Name() == "multi" && cmds[n-1].Name() == "exec" {
			body, tx = cmds[1:n-1], true
		}
		if !slices.ContainsFunc(body, func(c redis.Cmder) bool { return journaled(c.Name()) }) {
			return next(ctx, cmds)
		}
		return h.e.logged(ctx, body, tx, func(ctx context.Context) error { return next(ctx, cmds) })
	}
}

// logged runs cmds (through run) under the write lock and journals those
// that took effect as one record.
func (e *Store) logged(ctx context.Context, cmds []redis.Cmder, tx bool, run func(context.Context) error) error {
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
		!redis.IsExecAbortError(err) && !redisconn.TransientReply(err)):
		done = args // EXEC ran; a command failing inside it changed nothing, on replay too
	case !tx && (err == nil || errors.Is(err, redis.Nil)):
		done = args
	case !isReplyErr(err) && !notSent(err):
		// It may have run: memory may hold what the journal does not. Once
		// memory is back to the durable state, the journal is fine and
		// later writes may go on (a timeout on a loaded machine must not
		// stop every write until restart).
		cause := fmt.Errorf("outcome of %s unknown: %w", cmds[0].Name(), err)
		if e.rollbackLocked(context.WithoutCancel(ctx)) == nil {
			e.log.Warn("outcome of a write unknown; undone", "command", cmds[0].Name(), "error", err)
			return refuse(cmds, &JournalError{path: e.jr.path, err: cause, undone: true})
		}
		return refuse(cmds, e.failLocked(ctx, cause))
	}
	if len(done) == 0 {
		return err
	}
	if keys := signalled(cmds); len(keys) > 0 {
		e.signal(context.WithoutCancel(ctx), keys)
	}
	pinStreamIDs(cmds, done)
	if jerr := e.record(ctx, done); jerr != nil {
		return refuse(cmds, jerr)
	}
	return err
}

// failLocked refuses every later write with cause and rolls memory back
// to the durable state. The caller holds e.mu.
func (e *Store) failLocked(ctx context.Context, cause error) error {
	f := &JournalError{path: e.jr.path, err: cause}
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
func (e *Store) record(ctx context.Context, cmds [][]bstr) error {
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
