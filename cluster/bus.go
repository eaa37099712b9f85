package cluster

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/internal/redisconn"
)

// The bus: node-to-node messages over Redis pub/sub, one channel per node,
// "{prefix}:node:<id>". A message is a JSON object with a "kind"; a node
// reads only its own channel, through its one bus, which is the only
// subscriber and sender of it: asks (routed commands, drain requests),
// their answers and one-way notices (takeovers) all travel there. Kinds
// a node has no handler for are ignored.
// Pub/sub because a node needs messages only while it is alive, every ask
// is bounded in time, and nothing is left to trim: a message lost to a
// failover or a dead node shows up as the asker's timeout, never a hang.
// On a Redis Cluster the bus uses sharded pub/sub (SSUBSCRIBE/SPUBLISH,
// Redis 7), which keeps a message on the shard of its channel's slot
// instead of relaying it to every master, and whose publish count tells
// whether the node listens at all.

// ErrNotListening is returned by [Bus.Ask] when nobody listens on the
// node's channel: the node is not running (or lost its Redis). Nothing
// was delivered.
var ErrNotListening = errors.New("cluster: node not listening")

// kindAnswer is the kind of the answer to an ask, sent back on the
// asker's channel.
const kindAnswer = "answer"

// askGrace is how much longer than the asker waits a handler may run: the
// asker has given up by then, so the answer would be dropped anyway.
const askGrace = time.Second

// maxHandling bounds the asks a node runs at once; more are refused with
// an error answer rather than piling up goroutines.
const maxHandling = 1024

// message is what travels on a node's channel.
type message struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`   // correlates an ask and its answer
	From string `json:"from,omitempty"` // the asker's node ID: where the answer goes
	// BudgetMS is how long the asker still waits, in ms: its deadline in
	// a form no clock skew between nodes can distort. 0: no deadline.
	BudgetMS int64           `json:"budget_ms,omitempty"`
	Payload  json.RawMessage `json:"payload,omitempty"`
	Error    string          `json:"error,omitempty"` // an answer: the handler failed
}

// A Handler answers one kind of ask. ctx ends a little after the asker
// stops waiting; from is the asker's node ID. What it returns is encoded
// as JSON and sent back; an error is sent back as its text.
type Handler func(ctx context.Context, from string, payload json.RawMessage) (any, error)

// BusOptions configures a [Bus].
type BusOptions struct {
	Node      string        // required: this node's ID
	KeyPrefix string        // default "recipesd", the catalog's
	Timeout   time.Duration // one Redis round trip; default redisconn.DefaultTimeout
	Logger    *slog.Logger  // nil discards logs
}

// Bus sends asks to other nodes and answers theirs. Register handlers
// with [Bus.Handle] before [Bus.Start]. It is safe for concurrent use.
type Bus struct {
	edge   *redisconn.Edge
	node   string
	prefix string
	log    *slog.Logger

	handlers   map[string]Handler
	notices    map[string]NoticeHandler
	subscribed []func()
	slots      chan struct{} // a token per ask being handled

	mu      sync.Mutex
	waiting map[string]chan message // asks by ID, until answered

	stop     context.CancelFunc
	done     chan struct{}
	handling sync.WaitGroup // asks being handled
	closing  sync.Once
}

// NewBus returns the bus of node opts.Node on rdb. It does no I/O.
func NewBus(rdb redis.UniversalClient, opts BusOptions) *Bus {
	log := cmp.Or(opts.Logger, slog.New(slog.DiscardHandler))
	return &Bus{
		edge:     redisconn.NewEdge(rdb, "cluster", "node bus", opts.Timeout),
		node:     opts.Node,
		prefix:   cmp.Or(opts.KeyPrefix, defaultKeyPrefix),
		log:      log.With("component", "cluster", "node", opts.Node),
		handlers: map[string]Handler{},
		notices:  map[string]NoticeHandler{},
		slots:    make(chan struct{}, maxHandling),
		waiting:  map[string]chan message{},
	}
}

// Channel returns node's channel: the one place that names it. It shares
// the catalog's hash tag; on a Redis Cluster sharded pub/sub keeps it on
// that slot's shard.
func (b *Bus) Channel(node string) string { return "{" + b.prefix + "}:node:" + node }

// Node returns the ID this bus receives as.
func (b *Bus) Node() string { return b.node }

// Handle makes fn answer the asks of kind. Call it before [Bus.Start].
func (b *Bus) Handle(kind string, fn Handler) { b.handlers[kind] = fn }

// A NoticeHandler receives one kind of notice (see [Bus.Notify]); from is
// the sender's node ID. It runs on the bus's listening goroutine, one
// notice at a time and in the order they arrived, so it must not block.
type NoticeHandler func(from string, payload json.RawMessage)

// HandleNotice makes fn receive the notices of kind. Call it before
// [Bus.Start].
func (b *Bus) HandleNotice(kind string, fn NoticeHandler) { b.notices[kind] = fn }

// OnSubscribed makes fn run, on a goroutine of its own, each time the bus
// has subscribed to this node's channel: at [Bus.Start] and again after
// every interruption (Redis restarted, failed over, the connection
// dropped). Messages sent while it was interrupted are lost; fn is where
// a listener catches up on what they would have said. Call it before
// [Bus.Start].
func (b *Bus) OnSubscribed(fn func()) { b.subscribed = append(b.subscribed, fn) }

// fireSubscribed runs the OnSubscribed functions.
func (b *Bus) fireSubscribed() {
	for _, fn := range b.subscribed {
		go fn()
	}
}

// Start subscribes to this node's channel, and returns once Redis has
// confirmed, so that no ask sent after it returns is missed. It then
// listens until [Bus.Close].
func (b *Bus) Start(ctx context.Context) error {
	if b.node == "" {
		return errors.New("cluster: bus: node ID is empty")
	}
	ps, err := b.edge.SubscribeShard(ctx, "subscribe to node channel", b.Channel(b.node))
	if err != nil {
		return err
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	b.stop, b.done = stop, make(chan struct{})
	b.fireSubscribed()
	go func() {
		defer close(b.done)
		failing := false
		redisconn.Listen(lctx, ps, time.Second, func(msg any, err error) {
			if err != nil && !failing {
				b.log.Warn("node channel receive failed; asks to this node time out until it works again", "err", err)
			}
			failing = err != nil
			switch m := msg.(type) {
			case *redis.Message:
				b.receive(lctx, m.Payload)
			case *redis.Subscription:
				// go-redis made the subscription again after losing it.
				if m.Kind == "subscribe" || m.Kind == "ssubscribe" {
					b.log.Info("subscribed to this node's channel again")
					b.fireSubscribed()
				}
			}
		})
	}()
	return nil
}

// Close stops listening, then waits for the asks being handled to answer.
// It is safe to call more than once, and without Start.
func (b *Bus) Close() error {
	b.closing.Do(func() {
		if b.stop != nil {
			b.stop()
			<-b.done
		}
	})
	b.handling.Wait()
	return nil
}

// receive dispatches one message from this node's channel. It runs on the
// listening goroutine, so anything slow goes elsewhere.
func (b *Bus) receive(ctx context.Context, raw string) {
	var m message
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		b.log.Warn("dropped a node message that is not JSON", "bytes", len(raw), "err", err)
		return
	}
	if m.Kind == kindAnswer {
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m // buffered; only the first answer is taken
		}
		return
	}
	if m.ID == "" { // a notice: nobody waits for an answer
		if fn := b.notices[m.Kind]; fn != nil {
			fn(m.From, m.Payload)
		}
		return
	}
	fn := b.handlers[m.Kind]
	if fn == nil || m.From == "" {
		return // a kind this node does not handle: the asker times out
	}
	b.handling.Add(1)
	select {
	case b.slots <- struct{}{}:
	default:
		go func() {
			defer b.handling.Done()
			b.answer(ctx, m, nil, fmt.Errorf("node %s is handling %d asks already", b.node, maxHandling))
		}()
		return
	}
	go func() {
		defer b.handling.Done()
		defer func() { <-b.slots }()
		// Closing the bus stops new asks, not those accepted: they answer.
		base := context.WithoutCancel(ctx)
		hctx, cancel := context.WithCancel(base)
		if m.BudgetMS > 0 {
			cancel()
			hctx, cancel = context.WithTimeout(base, time.Duration(m.BudgetMS)*time.Millisecond+askGrace)
		}
		defer cancel()
		out, err := fn(hctx, m.From, m.Payload)
		if a, ok := out.(afterAnswer); ok {
			out = a.answer
			defer a.then()
		}
		b.answer(ctx, m, out, err)
	}()
}

// afterAnswer is what a handler returns whose work must follow its
// answer: then runs once the answer is sent (or failed to be).
type afterAnswer struct {
	answer any
	then   func()
}

// answer sends the answer to ask m.
func (b *Bus) answer(ctx context.Context, m message, out any, herr error) {
	a := message{Kind: kindAnswer, ID: m.ID}
	if herr != nil {
		a.Error = herr.Error()
	} else if raw, err := json.Marshal(out); err != nil {
		a.Error = fmt.Sprintf("node %s: encode answer: %v", b.node, err)
	} else {
		a.Payload = raw
	}
	raw, _ := json.Marshal(a)
	if _, err := b.edge.PublishShard(context.WithoutCancel(ctx), "answer "+m.Kind, b.Channel(m.From), raw); err != nil {
		b.log.Warn("could not answer an ask; the asking node times out", "kind", m.Kind, "to", m.From, "err", err)
	}
}

// Notify sends payload, encoded as JSON, as a notice of kind to node: a
// one-way message, which nobody answers. It returns [ErrNotListening]
// (wrapped) when nobody listens on the node's channel, EUNAVAILABLE when
// Redis is unreachable. A notice may be lost on the way (see
// [Bus.OnSubscribed]).
func (b *Bus) Notify(ctx context.Context, node, kind string, payload any) error {
	raw, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("cluster: notify node %s of %s: encode: %w", node, kind, err)
	}
	msg, _ := json.Marshal(message{Kind: kind, From: b.node, Payload: raw})
	n, err := b.edge.PublishShard(ctx, "notify node "+node+" of "+kind, b.Channel(node), msg)
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("cluster: notify node %s of %s: %w", node, kind, ErrNotListening)
	}
	return nil
}

// RemoteError is the error a handler on another node returned.
type RemoteError struct {
	Node, Kind, Message string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("cluster: node %s: %s: %s", e.Node, e.Kind, e.Message)
}

// Ask sends payload, encoded as JSON, as an ask of kind to node and waits
// for its answer until ctx ends; ctx's deadline travels with the ask, so
// the handler knows how long it has. It returns the handler's answer, a
// [*RemoteError], [ErrNotListening] (wrapped) when the node is not
// running, EUNAVAILABLE when Redis is unreachable, or ctx's error.
func (b *Bus) Ask(ctx context.Context, node, kind string, payload any) (json.RawMessage, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("cluster: ask %s of node %s: encode: %w", kind, node, err)
	}
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	m := message{Kind: kind, ID: hex.EncodeToString(id), From: b.node, Payload: raw}
	if dl, ok := ctx.Deadline(); ok {
		m.BudgetMS = max(time.Until(dl).Milliseconds(), 1)
	}
	ch := make(chan message, 1)
	b.mu.Lock()
	b.waiting[m.ID] = ch
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.waiting, m.ID)
		b.mu.Unlock()
	}()
	msg, _ := json.Marshal(m)
	n, err := b.edge.PublishShard(ctx, "ask node "+node, b.Channel(node), msg)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fmt.Errorf("cluster: ask %s of node %s: %w", kind, node, ErrNotListening)
	}
	select {
	case a := <-ch:
		if a.Error != "" {
			return nil, &RemoteError{Node: node, Kind: kind, Message: a.Error}
		}
		return a.Payload, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
