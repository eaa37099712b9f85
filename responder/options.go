package responder

import (
	"cmp"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// NoLimit, given as [Options.AbuseStrikes], [Options.ConnectFailures] or
// [Options.MaxUnauthenticated], turns that limit off; 0 takes the default.
const NoLimit = -1

// Options tunes the responder. The zero value works, and admits nobody:
// devices need Devices, or AllowAnonymous.
type Options struct {
	// Addr is the MQTT listen address; default "127.0.0.1:1883": like
	// mosquitto without a configuration, nothing is exposed until asked.
	Addr string

	// Listener, if set, is used instead of listening on Addr (tests).
	Listener net.Listener

	// TLS, if set, adds an MQTT-over-TLS listener on TLSAddr (default
	// "127.0.0.1:8883"), or on TLSListener if that is set.
	TLS         *tls.Config
	TLSAddr     string
	TLSListener net.Listener

	// Devices authenticates devices (PROTOCOL.md §1).
	Devices Devices

	// Presence, if set, keeps each device to one session across the
	// nodes sharing a store (presence.go); nil for a single node.
	Presence Presence

	// AllowAnonymous admits connections that present no credentials, under
	// any valid client ID, seeing every recipe. Development only: anyone
	// can then be any device.
	AllowAnonymous bool

	// ReplyExpiry is the Message Expiry Interval of replies; default 60 s.
	ReplyExpiry time.Duration

	// StoreTimeout bounds a request that has to wait on the store, so that a
	// stalled store still yields a 503 within a second, and bounds device
	// authentication; default 800 ms.
	StoreTimeout time.Duration

	// Workers and Queue size the pool that answers requests needing the store.
	Workers int // default 32
	Queue   int // default 4096

	// RequestRate and RequestBurst are each device's token bucket (requests
	// per second); a request beyond it is answered 429. Default 50 and 100.
	RequestRate  float64
	RequestBurst int

	// AbuseStrikes is how many 429 replies a device may ignore (beyond a
	// tenth of its request rate) before it is disconnected with DISCONNECT
	// 0x96; default 100, negative never disconnects.
	AbuseStrikes int

	// OutboxLimit bounds the replies queued for one device; default 1024.
	OutboxLimit int

	// MaxPacketSize is the largest packet a device may send; default 256 KiB.
	// It is advertised in CONNACK and enforced on the fixed header, before
	// the packet is read; a CONNECT may be at most 8 KiB.
	MaxPacketSize uint32

	// WriteTimeout bounds each write to a device, independently of its
	// keep-alive: a device that stops reading is disconnected when it
	// runs out. Default 10 s.
	WriteTimeout time.Duration

	// FirstPacketTimeout is how long a new connection may take to finish
	// TLS and send its CONNECT; default 5 s.
	FirstPacketTimeout time.Duration

	// MaxClients caps connected devices; more get CONNACK 0x89. Default
	// 100,000.
	MaxClients int

	// ReceiveMaximum is how many QoS 1 and 2 requests a device may have
	// unacknowledged at once; default 64.
	ReceiveMaximum uint16

	// MaxKeepalive caps the keep-alive a device may ask for (0 asks for
	// none); it is sent back as Server Keep Alive. Default 10 minutes.
	MaxKeepalive time.Duration

	// MaxSessionExpiry caps how long an offline device's session is kept;
	// default 1 hour.
	MaxSessionExpiry time.Duration

	// SeenInterval is how often devices' last-seen times are written;
	// default 30 s.
	SeenInterval time.Duration

	// ConnectFailures is how many failed authentications (CONNACK 0x85,
	// 0x86, 0x8C) one source address, an IPv4 address or an IPv6 /64, may
	// have per ConnectFailureWindow; beyond them its CONNECTs are answered
	// 0x9F without asking the registry until the window refills. Default
	// 30 per minute; negative: no limit.
	ConnectFailures      int
	ConnectFailureWindow time.Duration

	// MaxUnauthenticated caps the sockets one source address may hold open
	// without having authenticated; more are closed at once. Default 100;
	// negative: no limit.
	MaxUnauthenticated int

	// ThrottleExemptLoopback exempts loopback addresses from
	// ConnectFailures and MaxUnauthenticated: test harnesses run every
	// device from 127.0.0.1.
	ThrottleExemptLoopback bool

	Logger *slog.Logger

	// noPacketChecks hands packets to mochi unchecked (framing and size
	// limits still apply), for the tests that prove the recover works.
	noPacketChecks bool
}

func (o *Options) withDefaults() Options {
	c := *o
	c.Addr = cmp.Or(c.Addr, "127.0.0.1:1883")
	c.TLSAddr = cmp.Or(c.TLSAddr, "127.0.0.1:8883")
	c.ReplyExpiry = positiveOr(c.ReplyExpiry, 60*time.Second)
	c.StoreTimeout = positiveOr(c.StoreTimeout, 800*time.Millisecond)
	c.Workers = positiveOr(c.Workers, 32)
	c.Queue = positiveOr(c.Queue, 4096)
	c.RequestRate = positiveOr(c.RequestRate, 50)
	c.RequestBurst = positiveOr(c.RequestBurst, 100)
	c.AbuseStrikes = cmp.Or(c.AbuseStrikes, 100) // negative: never
	c.OutboxLimit = positiveOr(c.OutboxLimit, 1024)
	c.MaxPacketSize = cmp.Or(c.MaxPacketSize, 256<<10)
	c.WriteTimeout = positiveOr(c.WriteTimeout, 10*time.Second)
	c.FirstPacketTimeout = positiveOr(c.FirstPacketTimeout, 5*time.Second)
	c.MaxClients = positiveOr(c.MaxClients, 100_000)
	c.ReceiveMaximum = cmp.Or(c.ReceiveMaximum, 64)
	if c.MaxKeepalive < time.Second {
		c.MaxKeepalive = 10 * time.Minute
	}
	c.MaxSessionExpiry = positiveOr(c.MaxSessionExpiry, time.Hour)
	c.SeenInterval = positiveOr(c.SeenInterval, 30*time.Second)
	c.ConnectFailures = cmp.Or(c.ConnectFailures, 30) // negative: no limit
	c.ConnectFailureWindow = positiveOr(c.ConnectFailureWindow, time.Minute)
	c.MaxUnauthenticated = cmp.Or(c.MaxUnauthenticated, 100) // negative: no limit
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// positiveOr is v, or def when v is zero or negative: for the settings
// where neither means anything but "not set".
func positiveOr[T int | float64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
