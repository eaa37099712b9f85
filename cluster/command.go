package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/recipes"
)

// Commands to devices from any node (RRPC, PROTOCOL.md §4). A command for
// a device connected here runs here; one for a device connected to
// another node goes to that node over the bus, runs there, and its
// outcome comes back: the same outcomes as a local call. The caller's
// timeout is measured end to end: the holder gets what is left of it, and
// the asker never waits longer. Idempotency keys are kept in Redis
// (once.go), so a retry on any node replays the first outcome.

// kindCall is the bus kind of a routed command.
const kindCall = "call"

// Command is one command to one device.
type Command struct {
	Device  string
	Method  string
	Params  json.RawMessage
	Timeout time.Duration
	// Key, if set, is Caller's idempotency key: a retry with it gets the
	// first call's outcome instead of commanding the device again.
	Key    string
	Caller string // who calls; keys of different callers never meet
}

// Answer is a device's answer, exactly as it sent it.
type Answer struct {
	Status int
	Body   json.RawMessage
	// Replayed: the outcome (this answer, or the error returned with it)
	// is the remembered one of the first call with the same Key.
	Replayed bool
}

// Local runs commands on the devices connected to this node.
type Local interface {
	// Connected reports whether device id is connected to this node.
	Connected(id string) bool
	// Call sends method and params to device id and waits up to timeout
	// for its answer. It returns a *recipes.CallError when it got none
	// (CallOffline when the device is not connected here), or ctx's error.
	Call(ctx context.Context, id, method string, params json.RawMessage, timeout time.Duration) (Answer, error)
}

// Locator tells which node holds a device's session.
type Locator interface {
	// Lookup returns the holders of the devices ids that are connected to
	// a live node; EUNAVAILABLE when Redis is unreachable.
	Lookup(ctx context.Context, ids ...string) (map[string]Holder, error)
}

// CommandOptions configures [Commands].
type CommandOptions struct {
	Node string // this node's ID
	// Bus and Presence route commands to other nodes; without a Bus (a
	// single node, the embedded store) every command runs here.
	Bus      *Bus
	Presence Locator

	KeyPrefix string        // default "recipesd", the catalog's
	Timeout   time.Duration // one Redis round trip; default redisconn.DefaultTimeout
	// MaxKeysPerCaller bounds the idempotency keys one caller has
	// remembered at once; default 1000.
	MaxKeysPerCaller int
	Logger           *slog.Logger // nil discards logs
}

// Commands sends commands to devices wherever they are connected. It is
// safe for concurrent use.
type Commands struct {
	rdb      redis.UniversalClient
	edge     *redisconn.Edge
	local    Local
	bus      *Bus
	presence Locator
	node     string
	prefix   string
	maxKeys  int
	log      *slog.Logger
	stats    commandStats
}

// NewCommands returns the commands of this node: run by local, routed over
// opts.Bus, whose "call" asks they also answer, remembered in rdb. It does
// no I/O.
func NewCommands(rdb redis.UniversalClient, local Local, opts CommandOptions) *Commands {
	c := &Commands{
		rdb:      rdb,
		edge:     redisconn.NewEdge(rdb, "cluster", "idempotency keys", opts.Timeout),
		local:    local,
		bus:      opts.Bus,
		presence: opts.Presence,
		node:     opts.Node,
		prefix:   cmp.Or(opts.KeyPrefix, defaultKeyPrefix),
		maxKeys:  cmp.Or(opts.MaxKeysPerCaller, defaultMaxKeysPerCaller),
		log:      cmp.Or(opts.Logger, slog.New(slog.DiscardHandler)).With("component", "cluster"),
		stats:    newCommandStats(),
	}
	if c.bus != nil {
		c.bus.Handle(kindCall, c.serve)
	}
	return c
}

// Call sends cmd to its device, wherever it is connected, and returns its
// answer. It returns a *recipes.CallError when the device gave none (the
// codes of [Local.Call], plus CallKeyReused and CallTooManyKeys for keyed
// calls), EUNAVAILABLE when Redis is unreachable, or ctx's error.
func (c *Commands) Call(ctx context.Context, cmd Command) (Answer, error) {
	if cmd.Key == "" {
		return c.route(ctx, cmd)
	}
	return c.callOnce(ctx, cmd)
}

// route runs cmd where its device is connected.
func (c *Commands) route(ctx context.Context, cmd Command) (Answer, error) {
	if c.bus == nil || c.local.Connected(cmd.Device) {
		return c.local.Call(ctx, cmd.Device, cmd.Method, cmd.Params, cmd.Timeout)
	}
	held, err := c.presence.Lookup(ctx, cmd.Device)
	if err != nil {
		return Answer{}, err
	}
	h, ok := held[cmd.Device]
	switch {
	case ok && h.Node != c.node:
		return c.remote(ctx, h.Node, cmd)
	case !ok:
		if node := c.lastHolder(ctx, cmd.Device); node != "" && node != c.node {
			return Answer{}, &recipes.CallError{Code: recipes.CallOffline, Node: node,
				Reason: fmt.Sprintf("device's node %s is no longer alive", node)}
		}
	}
	// Ours, or nobody's: the local call says why it is offline.
	return c.local.Call(ctx, cmd.Device, cmd.Method, cmd.Params, cmd.Timeout)
}

// lastHolder returns the node device id's presence still names, alive or
// not, or "" (also when Redis cannot tell: the call is offline anyway).
func (c *Commands) lastHolder(ctx context.Context, id string) string {
	rctx, cancel := c.edge.RT(ctx)
	defer cancel()
	node, _ := c.rdb.HGet(rctx, c.prefix+":dev:{"+id+"}:presence", "node").Result()
	return node
}

// wireCall is a routed command.
type wireCall struct {
	Device    string          `json:"device"`
	Method    string          `json:"method"`
	Params    json.RawMessage `json:"params,omitempty"`
	TimeoutMS int64           `json:"timeout_ms"`
}

// wireOutcome is a command's outcome, as a routed call's answer and as a
// remembered one (once.go).
type wireOutcome struct {
	Status int             `json:"status,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  *wireError      `json:"error,omitempty"`
}

// wireError is a *recipes.CallError, or (Code empty) any other error.
type wireError struct {
	Code      string `json:"code,omitempty"`
	Reason    string `json:"reason,omitempty"`
	TimeoutMS int64  `json:"timeout_ms,omitempty"`
	Size      int    `json:"size,omitempty"`
	Limit     int    `json:"limit,omitempty"`
	Caller    bool   `json:"caller,omitempty"`
	Node      string `json:"node,omitempty"`
	Message   string `json:"message,omitempty"`
}

func toWire(a Answer, err error) wireOutcome {
	if err == nil {
		return wireOutcome{Status: a.Status, Body: a.Body}
	}
	var ce *recipes.CallError
	if !errors.As(err, &ce) {
		return wireOutcome{Error: &wireError{Message: err.Error()}}
	}
	return wireOutcome{Error: &wireError{Code: ce.Code, Reason: ce.Reason, TimeoutMS: ce.Timeout.Milliseconds(),
		Size: ce.Size, Limit: ce.Limit, Caller: ce.Caller, Node: ce.Node}}
}

// fromWire is the outcome o, which node reported.
func fromWire(o wireOutcome, node string) (Answer, error) {
	w := o.Error
	switch {
	case w == nil:
		return Answer{Status: o.Status, Body: o.Body}, nil
	case w.Code == "":
		return Answer{}, fmt.Errorf("cluster: node %s: %s", node, w.Message)
	}
	return Answer{}, &recipes.CallError{Code: w.Code, Reason: w.Reason, Timeout: time.Duration(w.TimeoutMS) * time.Millisecond,
		Size: w.Size, Limit: w.Limit, Caller: w.Caller, Node: w.Node}
}

// remote runs cmd on node, which holds its device.
func (c *Commands) remote(ctx context.Context, node string, cmd Command) (ans Answer, err error) {
	start := time.Now()
	defer func() { c.stats.routed(outcome(err), time.Since(start)) }()
	actx, cancel := context.WithTimeout(ctx, cmd.Timeout)
	defer cancel()
	raw, err := c.bus.Ask(actx, node, kindCall, wireCall{Device: cmd.Device, Method: cmd.Method, Params: cmd.Params,
		TimeoutMS: cmd.Timeout.Milliseconds()})
	switch {
	case errors.Is(err, ErrNotListening):
		return Answer{}, &recipes.CallError{Code: recipes.CallOffline, Node: node, Err: err,
			Reason: fmt.Sprintf("device's node %s is not running", node)}
	case err != nil && ctx.Err() != nil:
		return Answer{}, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		// The holder did not answer in time: the device did not, or the
		// holder died with the call. Either way, the caller's timeout.
		return Answer{}, &recipes.CallError{Code: recipes.CallTimeout, Timeout: cmd.Timeout}
	case err != nil:
		return Answer{}, err
	}
	var o wireOutcome
	if err := json.Unmarshal(raw, &o); err != nil {
		return Answer{}, fmt.Errorf("cluster: node %s: call answer: %w", node, err)
	}
	ans, err = fromWire(o, node)
	if recipes.CallErrorCode(err) == recipes.CallTimeout {
		// The holder waited what was left; the caller asked for this.
		err.(*recipes.CallError).Timeout = cmd.Timeout
	}
	return ans, err
}

// serve runs a command another node routed here.
func (c *Commands) serve(ctx context.Context, from string, payload json.RawMessage) (any, error) {
	var in wireCall
	if err := json.Unmarshal(payload, &in); err != nil {
		return nil, fmt.Errorf("decode command: %w", err)
	}
	timeout := time.Duration(in.TimeoutMS) * time.Millisecond
	if dl, ok := ctx.Deadline(); ok {
		// What the asker has left (the bus gives a grace beyond it).
		timeout = max(min(timeout, time.Until(dl)-askGrace), time.Millisecond)
	}
	ans, err := c.local.Call(ctx, in.Device, in.Method, in.Params, timeout)
	c.stats.received(outcome(err))
	return toWire(ans, err), nil
}

func isCanceled(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
