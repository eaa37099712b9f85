package fleet

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/packets"
)

// conn is one simulated device's connection.
type conn struct {
	b         *bench
	idx       uint32
	id        string
	nc        net.Conn
	replyTo   string
	serverMax int // the server's Receive Maximum: QoS 1 publishes it takes unacknowledged

	wmu      sync.Mutex   // one packet at a time on the socket
	lastSend atomic.Int64 // unix ns, for keep-alive
	closing  atomic.Bool  // the run is closing the connection: its end is no drop

	mu       sync.Mutex
	nextPID  uint16
	unacked  int                // QoS 1 requests without their PUBACK
	seq      uint32             // requests sent so far; the next one's number
	pending  map[uint32]request // sent and not answered, by number
	answered []uint64           // bit n: request n was answered
}

// request is one request sent and not yet answered.
type request struct {
	at       int64 // unix ns
	target   *Target
	kind     uint8
	measured bool // sent in the measured window
}

// correlationLen is the size of a request's correlation data: the run's
// nonce, the device's index and the request's number, so that every
// request of the run has its own.
const correlationLen = 12

// connect dials device i's server, sends CONNECT and subscribes to the
// device's reply topic. It returns nil (having counted why) when any of
// that fails.
func (b *bench) connect(ctx context.Context, i int) *conn {
	o := &b.o
	dev := o.Devices[i]
	b.attempted.Add(1)
	d := net.Dialer{Timeout: o.ConnectTimeout}
	if len(b.sources) > 0 {
		d.LocalAddr = &net.TCPAddr{IP: b.sources[i%len(b.sources)]}
	}
	t0 := time.Now()
	nc, err := d.DialContext(ctx, "tcp", o.Servers[i%len(o.Servers)])
	if err != nil {
		if ctx.Err() == nil {
			b.failed.add("dial")
		}
		return nil
	}
	c := &conn{b: b, idx: uint32(i), id: dev.ID, nc: nc, replyTo: "devices/" + dev.ID + "/replies", pending: map[uint32]request{}}
	fail := func(why string, err error) *conn {
		_ = nc.Close()
		switch {
		case ctx.Err() != nil: // the run ended first
		case errors.Is(err, os.ErrDeadlineExceeded):
			b.failed.add("timeout")
		default:
			b.failed.add(why)
		}
		return nil
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	_ = nc.SetDeadline(t0.Add(o.ConnectTimeout))

	cp := packets.NewControlPacket(packets.CONNECT)
	con := cp.Content.(*packets.Connect)
	con.ClientID, con.CleanStart = dev.ID, true
	con.KeepAlive = uint16(o.KeepAlive / time.Second)
	con.UsernameFlag, con.Username = true, dev.ID
	if dev.Secret != "" {
		con.PasswordFlag, con.Password = true, []byte(dev.Secret)
	}
	if o.ReceiveMaximum > 0 {
		rm := o.ReceiveMaximum
		con.Properties.ReceiveMaximum = &rm
	}
	if _, err := cp.WriteTo(nc); err != nil {
		return fail("dropped", err)
	}
	pk, err := packets.ReadPacket(nc)
	if err != nil {
		return fail("dropped", err)
	}
	ca, ok := pk.Content.(*packets.Connack)
	if !ok {
		return fail("unexpected "+pk.PacketType(), nil)
	}
	if ca.ReasonCode >= 0x80 {
		_ = nc.Close()
		b.refused.add(Hex(ca.ReasonCode))
		return nil
	}
	b.connack.Record(time.Since(t0))
	c.serverMax = 65535
	if ca.Properties != nil && ca.Properties.ReceiveMaximum != nil {
		c.serverMax = int(*ca.Properties.ReceiveMaximum)
	}

	sp := packets.NewControlPacket(packets.SUBSCRIBE)
	sub := sp.Content.(*packets.Subscribe)
	sub.PacketID = 1
	sub.Subscriptions = []packets.SubOptions{{Topic: c.replyTo, QoS: o.QoS}}
	if !o.NoCommands {
		sub.Subscriptions = append(sub.Subscriptions, packets.SubOptions{Topic: "devices/" + dev.ID + commandSuffix, QoS: 1})
	}
	if _, err := sp.WriteTo(nc); err != nil {
		return fail("dropped", err)
	}
	if pk, err = packets.ReadPacket(nc); err != nil {
		return fail("dropped", err)
	}
	sa, ok := pk.Content.(*packets.Suback)
	switch {
	case !ok:
		return fail("unexpected "+pk.PacketType(), nil)
	case len(sa.Reasons) != len(sub.Subscriptions) || slices.ContainsFunc(sa.Reasons, func(r byte) bool { return r >= 0x80 }):
		return fail("suback "+hexes(sa.Reasons), nil)
	}
	if !stop() { // the run ended, and set the deadline that ends it
		_ = nc.Close()
		return nil
	}
	c.nextPID = 2
	c.lastSend.Store(time.Now().UnixNano())
	_ = nc.SetDeadline(time.Time{})
	b.connected.Add(1)
	for now := time.Now().UnixNano(); ; {
		if last := b.lastConnect.Load(); now <= last || b.lastConnect.CompareAndSwap(last, now) {
			break
		}
	}
	return c
}

func hexes(bs []byte) string {
	s := ""
	for i, c := range bs {
		if i > 0 {
			s += ","
		}
		s += Hex(c)
	}
	return s
}

// writePacket sends one packet; a socket that takes none for 10 s fails
// the write.
func (c *conn) writePacket(cp *packets.ControlPacket) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := cp.WriteTo(c.nc)
	if err == nil {
		c.lastSend.Store(time.Now().UnixNano())
	}
	return err
}

func (c *conn) ping() {
	if c.closing.Load() {
		return
	}
	_ = c.writePacket(packets.NewControlPacket(packets.PINGREQ))
}

// close ends the connection as a device would, with DISCONNECT 0x00.
func (c *conn) close() {
	if c.closing.Swap(true) {
		return
	}
	d := packets.NewControlPacket(packets.DISCONNECT)
	c.wmu.Lock()
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = d.WriteTo(c.nc)
	c.wmu.Unlock()
	_ = c.nc.Close()
}

// sendLoop sends requests at the device's rate, from a random phase so
// that devices started together do not ask together, until the window
// ends.
func (c *conn) sendLoop(ctx context.Context) {
	b := c.b
	rng := rand.New(rand.NewPCG(uint64(b.nonce), uint64(c.idx)))
	every := time.Duration(float64(time.Second) / b.o.Rate)
	next := time.Now().Add(time.Duration(rng.Int64N(int64(every))))
	for {
		if !next.Before(b.sendEnd()) || !sleepUntil(ctx, next) || c.closing.Load() {
			return
		}
		c.send(rng, next.Before(b.warmEnd))
		next = next.Add(every)
		if now := time.Now(); next.Before(now) {
			next = now // behind: no burst to catch up
		}
	}
}

func (c *conn) send(rng *rand.Rand, warmup bool) {
	b := c.b
	kind, t, etag := b.pick(rng)
	qos := b.o.QoS
	c.mu.Lock()
	if len(c.pending) >= b.o.Inflight || (qos > 0 && c.unacked >= c.serverMax) {
		c.mu.Unlock()
		b.skipped.Add(1)
		return
	}
	seq := c.seq
	c.seq++
	var pid uint16
	if qos > 0 {
		pid = c.allocPID()
		c.unacked++
	}
	now := time.Now()
	c.pending[seq] = request{at: now.UnixNano(), target: t, kind: uint8(kind), measured: !warmup}
	c.mu.Unlock()
	b.pending.Add(1)

	corr := make([]byte, correlationLen)
	binary.BigEndian.PutUint32(corr, b.nonce)
	binary.BigEndian.PutUint32(corr[4:], c.idx)
	binary.BigEndian.PutUint32(corr[8:], seq)
	p := &packets.Publish{Topic: t.Topic, QoS: qos, PacketID: pid, Payload: t.Payload,
		Properties: &packets.Properties{ResponseTopic: c.replyTo, CorrelationData: corr}}
	if t.Payload != nil {
		p.Properties.ContentType = "application/json"
	}
	if etag != "" {
		p.Properties.User = []packets.User{{Key: "if-none-match", Value: etag}}
	}
	// Counted before the write: the reply may be read before it returns.
	b.sentAll.Add(1)
	if !warmup {
		b.sent.Add(1)
		b.kinds[kind].sent.Add(1)
	}
	if err := c.writePacket(p.ToControlPacket()); err != nil {
		// Not sent after all: no reply is owed.
		c.mu.Lock()
		if _, ok := c.pending[seq]; ok {
			delete(c.pending, seq)
			b.pending.Add(-1)
		}
		c.mu.Unlock()
		b.sentAll.Add(^uint64(0))
		if !warmup {
			b.sent.Add(^uint64(0))
			b.kinds[kind].sent.Add(^uint64(0))
		}
		if !c.closing.Load() {
			b.sendErrors.add("write")
		}
	}
}

// allocPID returns a packet identifier no unacknowledged publish holds;
// with at most serverMax (≤ 65535) of them and the ids used in turn, the
// next in turn is always free. c.mu is held.
func (c *conn) allocPID() uint16 {
	pid := c.nextPID
	c.nextPID++
	if c.nextPID == 0 {
		c.nextPID = 2 // 1 was the SUBSCRIBE's, and 0 is no id
	}
	return pid
}

// readLoop reads the connection until it ends.
func (c *conn) readLoop() {
	b := c.b
	for {
		pk, err := packets.ReadPacket(c.nc)
		if err != nil {
			if !c.closing.Load() {
				b.dropped.Add(1)
			}
			return
		}
		switch p := pk.Content.(type) {
		case *packets.Publish:
			if strings.HasSuffix(p.Topic, commandSuffix) {
				c.command(p)
			} else {
				c.reply(p)
			}
			if p.QoS == 1 {
				ack := packets.NewControlPacket(packets.PUBACK)
				ack.Content.(*packets.Puback).PacketID = p.PacketID
				_ = c.writePacket(ack)
			}
		case *packets.Puback:
			c.mu.Lock()
			c.unacked--
			c.mu.Unlock()
			if p.ReasonCode >= 0x80 {
				b.pubackRefused.add(Hex(p.ReasonCode))
			}
		case *packets.Disconnect:
			if !c.closing.Load() {
				b.serverDisc.add(Hex(p.ReasonCode))
			}
			c.closing.Store(true)
			_ = c.nc.Close()
			return
		}
	}
}

// reply accounts for one reply: it must answer a request of this device
// that has no answer yet.
func (c *conn) reply(p *packets.Publish) {
	b := c.b
	now := time.Now()
	b.replies.Add(1)
	var corr []byte
	if p.Properties != nil {
		corr = p.Properties.CorrelationData
	}
	if len(corr) != correlationLen || binary.BigEndian.Uint32(corr) != b.nonce || binary.BigEndian.Uint32(corr[4:]) != c.idx {
		b.stray.Add(1)
		return
	}
	seq := binary.BigEndian.Uint32(corr[8:])
	c.mu.Lock()
	r, ok := c.pending[seq]
	switch {
	case ok:
		delete(c.pending, seq)
		for int(seq/64) >= len(c.answered) {
			c.answered = append(c.answered, 0)
		}
		c.answered[seq/64] |= 1 << (seq % 64)
	case seq < c.seq && int(seq/64) < len(c.answered) && c.answered[seq/64]&(1<<(seq%64)) != 0:
		c.mu.Unlock()
		b.dup.Add(1)
		return
	default:
		c.mu.Unlock()
		b.stray.Add(1)
		return
	}
	c.mu.Unlock()
	b.pending.Add(-1)

	took := now.Sub(time.Unix(0, r.at))
	if took > b.o.Timeout {
		b.late.Add(1)
	}
	b.interval.Load().Record(took)
	status := 0
	if p.Properties != nil {
		for _, u := range p.Properties.User {
			if u.Key == "status" {
				status, _ = strconv.Atoi(u.Value)
			}
		}
	}
	if status >= 500 {
		b.serverErrors.Add(1)
	}
	if status == 200 && r.target.Kind != KindSearch && r.target.Kind != KindNotFound {
		if e := etagOf(p.Payload); e != "" && e != r.target.ETag() {
			r.target.etag.Store(&e)
		}
	}
	if !r.measured {
		return
	}
	b.answered.Add(1)
	b.latency.Record(took)
	if status < 0 || status >= len(b.kinds[r.kind].statuses) {
		status = 0
	}
	b.kinds[r.kind].statuses[status].Add(1)
}

// forgetPending counts the requests left unanswered when the connection
// ended as missing.
func (c *conn) forgetPending() {
	c.mu.Lock()
	n := len(c.pending)
	c.pending = map[uint32]request{}
	c.mu.Unlock()
	c.b.missing.Add(uint64(n))
	c.b.pending.Add(-int64(n))
}

// commandSuffix ends the topic of a device's commands (PROTOCOL.md §4).
const commandSuffix = "/rpc/request"

// commandAnswer is what a bench device answers every command with.
var commandAnswer = []byte(`{"status":200,"result":{"bench":true}}`)

// command answers a command at once, as PROTOCOL.md §4 says: on its
// Response Topic, with its Correlation Data, at QoS 1.
func (c *conn) command(p *packets.Publish) {
	b := c.b
	b.commands.Add(1)
	if p.Properties == nil || p.Properties.ResponseTopic == "" {
		return
	}
	c.mu.Lock()
	pid := c.allocPID()
	c.unacked++
	c.mu.Unlock()
	a := &packets.Publish{Topic: p.Properties.ResponseTopic, QoS: 1, PacketID: pid, Payload: commandAnswer,
		Properties: &packets.Properties{CorrelationData: p.Properties.CorrelationData, ContentType: "application/json"}}
	if err := c.writePacket(a.ToControlPacket()); err == nil {
		b.commandsAnswered.Add(1)
	}
}
