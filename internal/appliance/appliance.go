// Package appliance is an MQTT 5 client that speaks PROTOCOL.md exactly as
// appliance firmware would. The simulator, the load generator and the
// end-to-end tests all use it, so they exercise the same wire contract.
package appliance

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
)

// Options configures a connection.
type Options struct {
	Addr     string // host:port of the MQTT listener
	ID       string // device ID = client ID = username
	Password string

	Username  string      // default: ID, as PROTOCOL.md §1 requires
	Anonymous bool        // send neither username nor password
	TLS       *tls.Config // connect with TLS
	KeepAlive *uint16     // default 30 s

	ReceiveMaximum uint16 // 0: the client default (65535)
	MaxPacketSize  uint32 // 0: unlimited
	QoS            byte   // QoS of requests and of the reply subscription; default 1

	// RequestResponseInfo asks the server for the Response Topic prefix.
	RequestResponseInfo bool
}

// Reply is one reply as it arrived, with the properties a device checks.
type Reply struct {
	Topic         string
	QoS           byte
	Correlation   []byte
	ContentType   string
	PayloadFormat *byte
	MessageExpiry *uint32
	StatusProp    string // the "status" user property
	ContentLang   string // the "content-language" user property
	ResponseTopic string // set on commands (PROTOCOL.md §4)
	Payload       []byte

	// Decoded payload.
	Status   int             `json:"status"`
	ETag     string          `json:"etag"`
	Language string          `json:"language"`
	Data     json.RawMessage `json:"data"`
	Error    *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// endGrace is how long a connection that failed waits for the server's
// DISCONNECT, which paho may report after the failure, before
// [Client.Ended] says there was none.
const endGrace = 100 * time.Millisecond

// Client is a connected appliance.
type Client struct {
	ID      string
	Connack *paho.Connack
	qos     byte
	c       *paho.Client

	mu         sync.Mutex
	waiting    map[string]chan *Reply
	stray      []*Reply         // replies nobody waited for
	onCommand  func(*Reply)     // handles commands, see HandleCommands
	disconnect *paho.Disconnect // the server's DISCONNECT, if it sent one

	ended   chan struct{} // closed once the connection has ended and why is known
	endOnce sync.Once
}

// end records why the connection ended (d is the server's DISCONNECT, nil
// for any other end), once.
func (c *Client) end(d *paho.Disconnect) {
	if d != nil {
		c.mu.Lock()
		c.disconnect = d
		c.mu.Unlock()
	}
	c.endOnce.Do(func() { close(c.ended) })
}

// ReplyTopic is where this client asks to be answered.
func (c *Client) ReplyTopic() string { return "devices/" + c.ID + "/replies" }

// CommandTopic is where the server sends device id its commands.
func CommandTopic(id string) string { return "devices/" + id + "/rpc/request" }

// HandleCommands makes fn receive, each on its own goroutine, the commands
// that arrive on [CommandTopic] (subscribe to it after calling this); the
// Reply's Payload is the command and ResponseTopic and Correlation say
// where to answer.
func (c *Client) HandleCommands(fn func(*Reply)) {
	c.mu.Lock()
	c.onCommand = fn
	c.mu.Unlock()
}

// Dial connects, and subscribes to the device's reply topic.
func Dial(ctx context.Context, o Options) (*Client, error) {
	var conn net.Conn
	var err error
	if o.TLS != nil {
		conn, err = (&tls.Dialer{Config: o.TLS}).DialContext(ctx, "tcp", o.Addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", o.Addr)
	}
	if err != nil {
		return nil, fmt.Errorf("appliance %s: dial %s: %w", o.ID, o.Addr, err)
	}
	if o.QoS == 0 {
		o.QoS = 1
	}
	a := &Client{ID: o.ID, qos: o.QoS, waiting: map[string]chan *Reply{}, ended: make(chan struct{})}
	a.c = paho.NewClient(paho.ClientConfig{
		ClientID: o.ID,
		// paho writes a packet in two writes, and its pinger writes from
		// a goroutine of its own, at once after CONNACK: over TLS,
		// where each write is a record of its own, a PINGREQ could land
		// inside a SUBSCRIBE. paho locks around each packet's writes
		// when the connection is a sync.Locker.
		Conn:              packets.NewThreadSafeConn(conn),
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){a.received},
		// paho calls one of the two once the connection is closed, in
		// no set order when a write fails as the server's DISCONNECT
		// arrives: the DISCONNECT is given a moment to win.
		OnClientError:      func(error) { time.AfterFunc(endGrace, func() { a.end(nil) }) },
		OnServerDisconnect: a.end,
	})
	keepAlive := uint16(30)
	if o.KeepAlive != nil {
		keepAlive = *o.KeepAlive
	}
	cp := &paho.Connect{ClientID: o.ID, KeepAlive: keepAlive, CleanStart: true, Properties: &paho.ConnectProperties{
		RequestResponseInfo: o.RequestResponseInfo,
	}}
	if o.ReceiveMaximum > 0 {
		cp.Properties.ReceiveMaximum = &o.ReceiveMaximum
	}
	if o.MaxPacketSize > 0 {
		cp.Properties.MaximumPacketSize = &o.MaxPacketSize
	}
	if o.Username == "" {
		o.Username = o.ID
	}
	if !o.Anonymous && o.Username != "" {
		cp.Username, cp.UsernameFlag = o.Username, true
	}
	if !o.Anonymous && o.Password != "" {
		cp.Password, cp.PasswordFlag = []byte(o.Password), true
	}
	ca, err := a.c.Connect(ctx, cp)
	a.Connack = ca
	if err != nil {
		_ = conn.Close()
		return a, fmt.Errorf("appliance %s: connect: %w", o.ID, err)
	}
	if _, err := a.Subscribe(ctx, a.ReplyTopic(), o.QoS); err != nil {
		_ = a.Close()
		return nil, err
	}
	return a, nil
}

// errConnectionEnded is why a subscribe failed when the connection ended
// before its SUBACK.
var errConnectionEnded = errors.New("the connection ended before the SUBACK")

// Subscribe subscribes to filter and returns the SUBACK reason code.
// It fails as soon as the connection ends: paho would wait for a SUBACK
// that cannot come until ctx ends (a device taken over right after its
// CONNACK, say).
func (c *Client) Subscribe(ctx context.Context, filter string, qos byte) (byte, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-c.c.Done():
			cancel(errConnectionEnded)
		case <-ctx.Done():
		}
	}()
	sa, err := c.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if cause := context.Cause(ctx); errors.Is(cause, errConnectionEnded) {
		err = cause
	}
	if sa != nil && len(sa.Reasons) == 1 {
		if sa.Reasons[0] >= 0x80 {
			return sa.Reasons[0], fmt.Errorf("appliance %s: subscribe %s: reason 0x%02x", c.ID, filter, sa.Reasons[0])
		}
		return sa.Reasons[0], nil
	}
	return 0, fmt.Errorf("appliance %s: subscribe %s: %w", c.ID, filter, err)
}

func (c *Client) received(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	r := &Reply{Topic: p.Topic, QoS: p.QoS, Payload: p.Payload}
	if pp := p.Properties; pp != nil {
		r.Correlation, r.ContentType = pp.CorrelationData, pp.ContentType
		r.ResponseTopic = pp.ResponseTopic
		r.PayloadFormat, r.MessageExpiry = pp.PayloadFormat, pp.MessageExpiry
		r.StatusProp = pp.User.Get("status")
		r.ContentLang = pp.User.Get("content-language")
	}
	c.mu.Lock()
	if fn := c.onCommand; fn != nil && p.Topic == CommandTopic(c.ID) {
		c.mu.Unlock()
		// Off paho's goroutine: the handler publishes its answer at QoS 1.
		go fn(r)
		return true, nil
	}
	c.mu.Unlock()
	_ = json.Unmarshal(p.Payload, r)
	c.mu.Lock()
	ch, ok := c.waiting[string(r.Correlation)]
	if ok {
		delete(c.waiting, string(r.Correlation))
	} else {
		c.stray = append(c.stray, r)
	}
	c.mu.Unlock()
	if ok {
		ch <- r
	}
	return true, nil
}

// Request is one query.
type Request struct {
	Topic         string
	Payload       []byte
	ResponseTopic string // default: the client's ReplyTopic
	Correlation   []byte // default: 16 random bytes
	NoCorrelation bool
	ContentType   string
	IfNoneMatch   string
	AcceptLang    string // the accept-language user property
	MessageExpiry uint32
	QoS           *byte // default: the client's QoS
}

// ErrNoReply is returned by [Client.Ask] when ctx ends before the reply.
var ErrNoReply = errors.New("appliance: no reply")

// Send publishes req and returns a channel that receives its reply.
func (c *Client) Send(ctx context.Context, req Request) (<-chan *Reply, *paho.PublishResponse, error) {
	if req.Correlation == nil && !req.NoCorrelation {
		req.Correlation = make([]byte, 16)
		_, _ = rand.Read(req.Correlation)
	}
	if req.ResponseTopic == "" {
		req.ResponseTopic = c.ReplyTopic()
	}
	qos := c.qos
	if req.QoS != nil {
		qos = *req.QoS
	}
	props := &paho.PublishProperties{ResponseTopic: req.ResponseTopic, CorrelationData: req.Correlation, ContentType: req.ContentType}
	if req.IfNoneMatch != "" {
		props.User.Add("if-none-match", req.IfNoneMatch)
	}
	if req.AcceptLang != "" {
		props.User.Add("accept-language", req.AcceptLang)
	}
	if req.MessageExpiry > 0 {
		props.MessageExpiry = &req.MessageExpiry
	}
	ch := make(chan *Reply, 1)
	c.mu.Lock()
	c.waiting[string(req.Correlation)] = ch
	c.mu.Unlock()
	pr, err := c.c.Publish(ctx, &paho.Publish{Topic: req.Topic, QoS: qos, Payload: req.Payload, Properties: props})
	if err != nil {
		c.forget(req.Correlation)
		return nil, pr, fmt.Errorf("appliance %s: publish %s: %w", c.ID, req.Topic, err)
	}
	return ch, pr, nil
}

func (c *Client) forget(correlation []byte) {
	c.mu.Lock()
	delete(c.waiting, string(correlation))
	c.mu.Unlock()
}

// Ask publishes req and waits for its reply.
func (c *Client) Ask(ctx context.Context, req Request) (*Reply, error) {
	ch, _, err := c.Send(ctx, req)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		c.forget(req.Correlation)
		return nil, fmt.Errorf("%w to %s: %w", ErrNoReply, req.Topic, ctx.Err())
	}
}

// Get asks for topic with an optional JSON payload and waits for the reply.
func (c *Client) Get(ctx context.Context, topic string, payload any) (*Reply, error) {
	var body []byte
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, err
		}
	}
	return c.Ask(ctx, Request{Topic: topic, Payload: body})
}

// Publish sends a raw PUBLISH, for messages that are not requests.
func (c *Client) Publish(ctx context.Context, p *paho.Publish) (*paho.PublishResponse, error) {
	return c.c.Publish(ctx, p)
}

// Stray returns replies that arrived without anyone waiting for them.
func (c *Client) Stray() []*Reply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Reply(nil), c.stray...)
}

// ServerDisconnect returns the DISCONNECT the server ended the connection
// with, or nil.
func (c *Client) ServerDisconnect() *paho.Disconnect {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.disconnect
}

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.c.Done() }

// Ended is closed after Done, once [Client.ServerDisconnect] knows whether
// the server ended the connection with a DISCONNECT (paho reports that
// only after the connection is closed). It stays open after [Client.Close].
func (c *Client) Ended() <-chan struct{} { return c.ended }

// Close disconnects cleanly.
func (c *Client) Close() error {
	err := c.c.Disconnect(&paho.Disconnect{ReasonCode: 0})
	select {
	case <-c.c.Done():
	case <-time.After(2 * time.Second):
	}
	return err
}

// String formats a reply for test messages.
func (r *Reply) String() string {
	return strconv.Itoa(r.Status) + " " + string(r.Payload)
}
