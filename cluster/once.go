package cluster

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/recipes"
)

// Idempotency keys, honoured by every node:
//
//	<prefix>:dev:{<id>}:call:<sha256(caller, key)>   STRING  JSON onceRecord
//	<prefix>:caller:{<sha256(caller)>}:calls          ZSET    the caller's keys, scored by expiry (unix ms)
//
// A keyed call claims its key with SET NX as pending, with a short TTL (the
// call's timeout and a margin, so that the claim of a node that died with
// the call frees itself); it then stores the outcome for
// [IdempotencyWindow], or deletes the claim for an outcome that must not
// be remembered (nothing was sent, or the caller gave up). Another call
// with the key, on any node, replays the stored outcome or waits for a
// pending one, polling, within its own timeout.
//
// The per-caller bound lives in Redis too: a caller who has
// MaxKeysPerCaller keys remembered gets CallTooManyKeys for a new key,
// instead of one caller filling Redis. There is no bound over all callers
// any more: each outcome expires with the window, and one counter for the
// whole fleet would be one hot key on one Cluster slot. A key counts in
// its caller's share while its claim lives, then for the window once its
// outcome is stored: the claim of a node that died with the call stops
// counting with the claim. The bound is
// checked before the claim, not atomically with it (the two keys are on
// different slots): racing calls of one caller may pass it by a few.

// IdempotencyWindow is how long the outcome of a keyed call is remembered.
const IdempotencyWindow = 10 * time.Minute

const (
	defaultMaxKeysPerCaller = 1000
	// claimMargin is how much longer than its call's timeout a pending
	// claim lives: the time to store the outcome after it.
	claimMargin = 2 * time.Second
	// pollEvery is how often a call waiting for a pending outcome looks.
	pollEvery = 20 * time.Millisecond
)

// onceRecord is a key's value: pending (Claim set) or done (Outcome set).
type onceRecord struct {
	Command string       `json:"command"`         // sha256 of method and params: a reuse must ask the same
	Claim   string       `json:"claim,omitempty"` // the claimant's random token, while pending
	Outcome *wireOutcome `json:"outcome,omitempty"`
}

// claimKeyScript sets KEYS[1] to ARGV[1] for ARGV[2] ms unless it exists,
// and returns {1} or {0, the value that exists}.
var claimKeyScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return {0, v} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {1}`)

// settleKeyScript replaces claim ARGV[1] of KEYS[1] by ARGV[2] for ARGV[3] ms,
// or deletes it if ARGV[2] is empty, only while the claim is still there.
var settleKeyScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`)

// IdempotencyWindow returns how long the outcome of a keyed call is
// remembered.
func (c *Commands) IdempotencyWindow() time.Duration { return IdempotencyWindow }

func sum(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// callOnce is [Commands.Call] with an idempotency key.
func (c *Commands) callOnce(ctx context.Context, cmd Command) (Answer, error) {
	id := sum([]byte(cmd.Caller), []byte(cmd.Key))
	key := c.prefix + ":dev:{" + cmd.Device + "}:call:" + id
	callerKey := c.prefix + ":caller:{" + sum([]byte(cmd.Caller)) + "}:calls"
	command := sum([]byte(cmd.Method), cmd.Params)
	token := make([]byte, 16)
	_, _ = rand.Read(token)
	claim, _ := json.Marshal(onceRecord{Command: command, Claim: hex.EncodeToString(token)})
	giveUp := time.Now().Add(cmd.Timeout)
	for {
		if err := c.checkCallerKeys(ctx, callerKey, key); err != nil {
			return Answer{}, err
		}
		rec, err := c.claim(ctx, key, claim, cmd.Timeout+claimMargin)
		switch {
		case err != nil:
			return Answer{}, err
		case rec == nil:
			return c.runClaimed(ctx, cmd, key, callerKey, claim)
		case rec.Command != command:
			return Answer{}, recipes.ErrCallKeyReused
		case rec.Outcome != nil:
			ans, err := fromWire(*rec.Outcome, "")
			ans.Replayed = true
			return ans, err
		}
		// The first call with the key is still running, here or elsewhere.
		if time.Now().After(giveUp) {
			return Answer{}, &recipes.CallError{Code: recipes.CallTimeout, Timeout: cmd.Timeout,
				Reason: "the first call with this idempotency key is still waiting for its answer"}
		}
		t := time.NewTimer(pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return Answer{}, ctx.Err()
		case <-t.C:
		}
	}
}

// claim claims key for ttl, or returns the record already there.
func (c *Commands) claim(ctx context.Context, key string, claim []byte, ttl time.Duration) (*onceRecord, error) {
	rctx, cancel := c.edge.RT(ctx)
	defer cancel()
	res, err := claimKeyScript.Run(rctx, c.rdb, []string{key}, claim, ttl.Milliseconds()).Slice()
	if err != nil {
		return nil, c.edge.Err("claim idempotency key", err)
	}
	if n, _ := res[0].(int64); n == 1 {
		return nil, nil
	}
	var rec onceRecord
	if len(res) < 2 {
		return nil, fmt.Errorf("cluster: claim idempotency key: unexpected answer %v", res)
	}
	if err := json.Unmarshal([]byte(fmt.Sprint(res[1])), &rec); err != nil {
		return nil, fmt.Errorf("cluster: idempotency key %s holds no outcome: %w", key, err)
	}
	return &rec, nil
}

// checkCallerKeys returns CallTooManyKeys if the caller of callerKey has
// its share of keys remembered and key is not one of them.
func (c *Commands) checkCallerKeys(ctx context.Context, callerKey, key string) error {
	rctx, cancel := c.edge.RT(ctx)
	defer cancel()
	var card *redis.IntCmd
	var score *redis.FloatCmd
	_, err := c.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(rctx, callerKey, "-inf", strconv.FormatInt(time.Now().UnixMilli(), 10))
		card = p.ZCard(rctx, callerKey)
		score = p.ZScore(rctx, callerKey, key)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return c.edge.Err("count the caller's idempotency keys", err)
	}
	if card.Val() >= int64(c.maxKeys) && errors.Is(score.Err(), redis.Nil) {
		return &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: c.maxKeys, Caller: true}
	}
	return nil
}

// runClaimed runs cmd under its claimed key and settles the claim.
func (c *Commands) runClaimed(ctx context.Context, cmd Command, key, callerKey string, claim []byte) (Answer, error) {
	sctx := context.WithoutCancel(ctx) // the outcome is stored even if the caller left
	// The key counts in the caller's share while the claim lives, and
	// for the window once its outcome is stored: the claim of a node that
	// dies with the call frees the share with the key.
	if err := c.countCallerKey(sctx, callerKey, key, cmd.Timeout+claimMargin); err != nil {
		c.release(sctx, key, claim)
		return Answer{}, err
	}

	ans, err := c.route(ctx, cmd)

	var settled []byte
	if remembered(err) {
		o := toWire(ans, err)
		settled, _ = json.Marshal(onceRecord{Command: sum([]byte(cmd.Method), cmd.Params), Outcome: &o})
	}
	rctx, cancel := c.edge.RT(sctx)
	defer cancel()
	if settled == nil {
		c.release(sctx, key, claim)
		_ = c.rdb.ZRem(rctx, callerKey, key).Err()
		return ans, err
	}
	n, serr := settleKeyScript.Run(rctx, c.rdb, []string{key}, claim, settled, IdempotencyWindow.Milliseconds()).Int()
	if serr == nil && n == 0 {
		serr = errors.New("its claim expired before the outcome came")
	}
	if serr != nil {
		// The device was commanded; a retry may command it again.
		c.log.Warn("could not remember the outcome of a keyed call; a retry with its key commands the device again",
			"device", cmd.Device, "err", serr)
		return ans, err
	}
	if cerr := c.countCallerKey(sctx, callerKey, key, IdempotencyWindow); cerr != nil {
		c.log.Warn("could not count a remembered outcome in its caller's share until it is forgotten", "err", cerr)
	}
	return ans, err
}

// countCallerKey counts key in the share of the caller of callerKey for d.
func (c *Commands) countCallerKey(ctx context.Context, callerKey, key string, d time.Duration) error {
	rctx, cancel := c.edge.RT(ctx)
	defer cancel()
	_, err := c.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		p.ZAdd(rctx, callerKey, redis.Z{Score: float64(time.Now().Add(d).UnixMilli()), Member: key})
		// No member is counted longer than the window: the set need not
		// outlive it.
		p.PExpire(rctx, callerKey, IdempotencyWindow)
		return nil
	})
	if err != nil {
		return c.edge.Err("count the caller's idempotency key", err)
	}
	return nil
}

// release deletes key's claim, if it is still ours.
func (c *Commands) release(ctx context.Context, key string, claim []byte) {
	rctx, cancel := c.edge.RT(ctx)
	defer cancel()
	if err := settleKeyScript.Run(rctx, c.rdb, []string{key}, claim, "", 0).Err(); err != nil {
		c.log.Warn("could not release an idempotency key; it frees itself after the call's timeout", "err", err)
	}
}

// remembered reports whether a call's outcome is remembered for its key:
// not when nothing was sent (offline, too large, busy), nor when the
// caller gave up or the outcome is unknown (a failure of Redis or of
// another node): a retry may succeed.
func remembered(err error) bool {
	switch recipes.CallErrorCode(err) {
	case "":
		return err == nil
	case recipes.CallTimeout, recipes.CallGone, recipes.CallBadAnswer:
		return true
	}
	return false
}
