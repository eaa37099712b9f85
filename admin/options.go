package admin

import (
	"cmp"
	"crypto/tls"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options tunes the server. The zero value works.
type Options struct {
	Addr     string       // default "127.0.0.1:8080": loopback unless told otherwise
	Listener net.Listener // used instead of Addr when set (tests)
	MQTTAddr string       // shown on the dashboard
	Logger   *slog.Logger

	SessionIdle   time.Duration // a session unused this long ends; default 30m
	SessionMaxAge time.Duration // a session ends this long after sign-in; default 12h

	// SecureCookies marks cookies Secure even on plain HTTP requests, for
	// a server behind a TLS-terminating proxy. Requests that arrive over
	// TLS always get Secure cookies.
	SecureCookies bool

	// Sign-in throttling (see loginThrottle): failed attempts of one
	// account from one client address, LoginBurst at once and then one
	// more per LoginEvery (default 10, 6s); of any account from one
	// address, LoginAddressBurst (default 10×LoginBurst); of one account
	// from any address, LoginAccountBurst (default 3×LoginBurst). The
	// last two refill at the same pace as the first: each completely in
	// LoginBurst×LoginEvery.
	LoginBurst        int
	LoginEvery        time.Duration
	LoginAddressBurst int
	LoginAccountBurst int

	BodyLimit string // largest request body, like "1M"; default 1M

	// Connection timeouts, for HTTP and HTTPS alike: a client that sends
	// half a request, or keeps an idle connection open, must not hold a
	// connection and a goroutine for ever.
	ReadHeaderTimeout time.Duration // TLS handshake and request headers; default 10s
	ReadTimeout       time.Duration // the whole request, body included; default 1m (1 MiB at 140 kbit/s)
	IdleTimeout       time.Duration // a keep-alive connection between requests; default 2m
	// WriteTimeout bounds reading the body, handling and writing the
	// response; it must stay above the longest handler (a command to an
	// appliance waits up to 30s) plus ReadTimeout. Default 2m; negative: none.
	WriteTimeout time.Duration

	// TLSConfig, if set, makes the server speak HTTPS only.
	TLSConfig *tls.Config

	// Metrics, when set, is served on /metrics and is where the dashboard
	// reads the responder's counters (by their metric names); it is
	// sampled every SampleEvery and kept for History.
	Metrics     prometheus.Gatherer
	SampleEvery time.Duration // default 5s
	History     time.Duration // default 15m

	// Appliances, when set, lets the API command connected appliances
	// (POST /api/devices/:id/rpc).
	Appliances Appliances
	// Nodes, when set, lists the nodes sharing the store (/nodes,
	// GET /api/nodes, the dashboard's cluster view).
	Nodes Nodes
	// Drain, when set, makes /readyz answer 503 while this node drains
	// and lets staff ask a node to drain from the /nodes page.
	Drain Drain
	// NodeID is this node's ID, marked in the cluster view.
	NodeID string
	// Presence, when set, tells which devices are connected, where and
	// since when; without it no device is shown connected.
	Presence Presence
	// Previews, when set, shows editors the exact reply an appliance
	// receives for a recipe (the recipe page's preview card and
	// GET /api/recipes/:id/preview).
	Previews Previews

	// Audit, when set, records every state-changing request and serves
	// /audit and GET /api/audit; without it nothing is recorded and those
	// pages say so.
	Audit AuditLog
	// AnonymousDevices: devices may connect without being registered, so
	// a connected device may be commanded though the registry lacks it.
	AnonymousDevices bool
}

// ensureDefaults fills in every setting left zero; a zero or negative
// duration or count asks for the default, except WriteTimeout, where a
// negative one means none.
func (o *Options) ensureDefaults() {
	o.Addr = cmp.Or(o.Addr, "127.0.0.1:8080")
	o.Logger = cmp.Or(o.Logger, slog.New(slog.DiscardHandler))
	o.SessionIdle = positive(o.SessionIdle, 30*time.Minute)
	o.SessionMaxAge = positive(o.SessionMaxAge, 12*time.Hour)
	o.LoginBurst = positive(o.LoginBurst, 10)
	o.LoginEvery = positive(o.LoginEvery, 6*time.Second)
	o.LoginAddressBurst = positive(o.LoginAddressBurst, 10*o.LoginBurst)
	o.LoginAccountBurst = positive(o.LoginAccountBurst, 3*o.LoginBurst)
	o.BodyLimit = cmp.Or(o.BodyLimit, "1M")
	o.ReadHeaderTimeout = positive(o.ReadHeaderTimeout, 10*time.Second)
	o.ReadTimeout = positive(o.ReadTimeout, time.Minute)
	o.IdleTimeout = positive(o.IdleTimeout, 2*time.Minute)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, 2*time.Minute)
	o.SampleEvery = positive(o.SampleEvery, 5*time.Second)
	o.History = positive(o.History, 15*time.Minute)
}

// positive returns v, or def when v is zero or negative.
func positive[T int | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}
