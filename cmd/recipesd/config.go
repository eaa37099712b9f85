package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/responder"
)

// StoreConfig says where the catalog store is; every subcommand that
// opens the store takes these flags.
type StoreConfig struct {
	DataDir   string
	RedisURL  string
	KeyPrefix string
	// RevisionsKept is how many revisions of each recipe and category the
	// catalog keeps (see catalog/revision.go).
	RevisionsKept int

	// The audit log's retention, for the server and the commands that
	// record in it alike (each write trims).
	AuditKeep   int
	AuditMaxAge time.Duration
}

// Config is everything "recipesd serve" can be told.
type Config struct {
	StoreConfig
	MQTTAddr string
	HTTPAddr string
	Demo     bool

	ReplyExpiry   time.Duration
	StoreTimeout  time.Duration
	Workers       int
	DeviceRate    float64
	DeviceBurst   int
	MaxPacketSize int

	// Device admission and limits (responder.Options).
	AllowAnonymous bool
	MQTTTLSAddr    string
	TLSCert        string // with TLSKey: MQTT over TLS and HTTPS
	TLSKey         string
	ConnectTimeout time.Duration
	WriteTimeout   time.Duration
	MaxClients     int
	ReceiveMaximum int
	AbuseStrikes   int

	// Per-source limits before authentication (responder.Options).
	ConnectFailures      int
	ConnectFailureWindow time.Duration
	UnauthPerSource      int
	ExemptLoopback       bool

	// Admin server (admin.Options).
	SessionIdle   time.Duration
	SecureCookies bool
	AdminPassword string // of the first admin account; from the environment only
	PasswordCost  int    // bcrypt cost of new passwords; 0: bcrypt's default (tests lower it)

	// ScheduleInterval is how often this node looks for scheduled
	// publishes that came due.
	ScheduleInterval time.Duration

	// This node in a cluster (cluster.Options).
	NodeID        string
	AdvertiseMQTT string // empty: the MQTT listen address
	NodeHeartbeat time.Duration
	NodeDeadAfter time.Duration
	DrainRate     float64       // devices per second a drain sends away
	DrainTimeout  time.Duration // longest drain before the node stops anyway
	// alone runs a node on an external Redis out of cluster mode, as if
	// it had the store to itself: the benchmarks' baseline.
	alone bool

	LogFormat string
	LogLevel  string
}

// parseServeFlags parses "recipesd serve" flags over environment defaults.
func parseServeFlags(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	e := newEnvFlags("recipesd serve", "", getenv, stderr)
	// Loopback unless told otherwise, like mosquitto 2: a first start
	// with demo data and demo credentials must not be on the network.
	e.String(&c.MQTTAddr, "mqtt-addr", "RECIPESD_MQTT_ADDR", "127.0.0.1:1883", "MQTT 5 listen address (:1883 for every interface)")
	e.String(&c.HTTPAddr, "http-addr", "RECIPESD_HTTP_ADDR", "127.0.0.1:8080", "admin UI and API listen address (:8080 for every interface)")
	e.store(&c.StoreConfig)
	e.Bool(&c.Demo, "demo", "RECIPESD_DEMO", true, "load the demo catalog when the store is empty")
	e.Duration(&c.ReplyExpiry, "reply-expiry", "RECIPESD_REPLY_EXPIRY", 60*time.Second, "Message Expiry Interval of replies")
	e.Duration(&c.StoreTimeout, "store-timeout", "RECIPESD_STORE_TIMEOUT", 800*time.Millisecond, "longest wait on the store before a request is answered 503")
	e.Int(&c.Workers, "workers", "RECIPESD_WORKERS", 32, "requests looked up in the store at once")
	e.Float(&c.DeviceRate, "device-rate", "RECIPESD_DEVICE_RATE", 50, "requests per second each device may send before it gets 429")
	e.Int(&c.DeviceBurst, "device-burst", "RECIPESD_DEVICE_BURST", 100, "requests a device may send in a burst")
	e.Int(&c.MaxPacketSize, "max-packet-size", "RECIPESD_MAX_PACKET_SIZE", 256<<10, "largest MQTT packet a device may send, in bytes")
	e.devices(&c)
	e.admin(&c)
	e.node(&c)
	e.String(&c.LogFormat, "log-format", "RECIPESD_LOG_FORMAT", "text", "log format: text or json")
	e.String(&c.LogLevel, "log-level", "RECIPESD_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	if err := e.parse(args); err != nil {
		return c, err
	}
	if e.fs.NArg() > 0 {
		e.errs = append(e.errs, fmt.Errorf("unexpected argument %q", e.fs.Arg(0)))
	}
	return c, e.validated(c.validate)
}

// devices registers the flags of device admission, TLS and limits.
func (e *envFlags) devices(c *Config) {
	e.Bool(&c.AllowAnonymous, "allow-anonymous", "RECIPESD_ALLOW_ANONYMOUS", false, "DEVELOPMENT ONLY: admit devices without credentials, as any device ID")
	e.String(&c.MQTTTLSAddr, "mqtt-tls-addr", "RECIPESD_MQTT_TLS_ADDR", "127.0.0.1:8883", "MQTT over TLS listen address (with -tls-cert and -tls-key; :8883 for every interface)")
	e.String(&c.TLSCert, "tls-cert", "RECIPESD_TLS_CERT", "", "PEM certificate (chain) file; with -tls-key enables MQTT over TLS and HTTPS")
	e.String(&c.TLSKey, "tls-key", "RECIPESD_TLS_KEY", "", "PEM private key file of -tls-cert")
	e.Duration(&c.ConnectTimeout, "connect-timeout", "RECIPESD_CONNECT_TIMEOUT", 5*time.Second, "time a new connection has to finish TLS and send CONNECT")
	e.Duration(&c.WriteTimeout, "mqtt-write-timeout", "RECIPESD_MQTT_WRITE_TIMEOUT", 10*time.Second, "time one write to a device may take; a device that stops reading is disconnected after it")
	e.Int(&c.MaxClients, "max-clients", "RECIPESD_MAX_CLIENTS", 100_000, "devices connected at once; more get CONNACK 0x89")
	e.Int(&c.ReceiveMaximum, "receive-maximum", "RECIPESD_RECEIVE_MAXIMUM", 64, "QoS 1/2 requests a device may have unacknowledged")
	e.Int(&c.AbuseStrikes, "abuse-strikes", "RECIPESD_ABUSE_STRIKES", 100, "429 replies and refused publishes a device may ignore before it is disconnected (0x96, 0x87); 0 never disconnects")
	e.Int(&c.ConnectFailures, "mqtt-connect-failures", "RECIPESD_MQTT_CONNECT_FAILURES", 30, "failed MQTT authentications one source address (IPv4, IPv6 /64) may have per -mqtt-connect-failure-window before its CONNECTs get 0x9F; 0: no limit")
	e.Duration(&c.ConnectFailureWindow, "mqtt-connect-failure-window", "RECIPESD_MQTT_CONNECT_FAILURE_WINDOW", time.Minute, "window of -mqtt-connect-failures")
	e.Int(&c.UnauthPerSource, "mqtt-unauthenticated-per-source", "RECIPESD_MQTT_UNAUTHENTICATED_PER_SOURCE", 100, "MQTT sockets one source address may hold before authenticating; more are closed at once; 0: no limit")
	e.Bool(&c.ExemptLoopback, "mqtt-exempt-loopback", "RECIPESD_MQTT_EXEMPT_LOOPBACK", false, "exempt loopback addresses from the two limits above (tests and load generators on this machine)")
}

// admin registers the flags of the admin server.
func (e *envFlags) admin(c *Config) {
	e.Duration(&c.SessionIdle, "session-idle", "RECIPESD_SESSION_IDLE", 30*time.Minute, "an editor unused this long is signed out")
	e.Bool(&c.SecureCookies, "secure-cookies", "RECIPESD_SECURE_COOKIES", false, "mark cookies Secure on plain HTTP too (behind a TLS-terminating proxy)")
	e.Duration(&c.ScheduleInterval, "schedule-interval", "RECIPESD_SCHEDULE_INTERVAL", time.Second, "how often to publish scheduled publishes that came due (every node does; each fires once)")
	// A password is never a flag: flags show in ps.
	c.AdminPassword = e.env("RECIPESD_ADMIN_PASSWORD")
}

// node registers the flags of this node in a cluster.
func (e *envFlags) node(c *Config) {
	// The host name, not a random suffix: a node restarted after a crash
	// keeps its ID and so replaces its own entry, instead of leaving a
	// dead stranger listed beside a new one.
	host, _ := os.Hostname()
	e.String(&c.NodeID, "node-id", "RECIPESD_NODE_ID", host, "this node's ID among the nodes sharing the Redis; default the host name, stable across restarts (give each node on one host its own)")
	e.String(&c.AdvertiseMQTT, "advertise-mqtt", "RECIPESD_ADVERTISE_MQTT", "", "MQTT address (host:port) other nodes and devices are told to reach this node at; default the MQTT listen address")
	e.Duration(&c.NodeHeartbeat, "node-heartbeat", "RECIPESD_NODE_HEARTBEAT", cluster.DefaultHeartbeat, "how often this node renews its entry in the node registry")
	e.Duration(&c.NodeDeadAfter, "node-dead-after", "RECIPESD_NODE_DEAD_AFTER", cluster.DefaultDeadAfter, "a node whose last heartbeat is older is dead; at least 3 × -node-heartbeat")
	e.Float(&c.DrainRate, "drain-rate", "RECIPESD_DRAIN_RATE", responder.DefaultDrainRate, "devices per second a draining node (SIGTERM, recipesd drain) sends to other nodes")
	e.Duration(&c.DrainTimeout, "drain-timeout", "RECIPESD_DRAIN_TIMEOUT", 5*time.Minute, "longest drain; the devices still connected then are disconnected at once (0 stops without draining)")
}

// limit maps a limit flag (-abuse-strikes, -mqtt-connect-failures,
// -mqtt-unauthenticated-per-source), where 0 means no limit as users know
// these flags, to [responder.Options], where 0 takes the default.
func limit(flag int) int {
	if flag == 0 {
		return responder.NoLimit
	}
	return flag
}

func (c *StoreConfig) validate() []error {
	var errs []error
	if c.RedisURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("-data-dir is required when -redis-url is empty"))
	}
	if c.RevisionsKept < 1 {
		errs = append(errs, fmt.Errorf("-revisions-kept %d: must be at least 1", c.RevisionsKept))
	}
	if c.AuditKeep < 1 {
		errs = append(errs, fmt.Errorf("-audit-keep %d: must be at least 1", c.AuditKeep))
	}
	if c.AuditMaxAge < time.Minute {
		errs = append(errs, fmt.Errorf("-audit-max-age %s: must be at least 1m", c.AuditMaxAge))
	}
	return errs
}

func (c *Config) validate() []error {
	errs := c.StoreConfig.validate()
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.ReplyExpiry >= time.Second, "-reply-expiry %s: must be at least 1s", c.ReplyExpiry)
	check(c.StoreTimeout >= 10*time.Millisecond && c.StoreTimeout <= 5*time.Second, "-store-timeout %s: must be between 10ms and 5s", c.StoreTimeout)
	check(c.Workers >= 1 && c.Workers <= 10000, "-workers %d: must be between 1 and 10000", c.Workers)
	check(c.DeviceRate > 0, "-device-rate %g: must be positive", c.DeviceRate)
	check(c.DeviceBurst >= 1, "-device-burst %d: must be at least 1", c.DeviceBurst)
	check(c.MaxPacketSize >= 1024 && c.MaxPacketSize <= 256<<20, "-max-packet-size %d: must be between 1024 and 268435456", c.MaxPacketSize)
	check((c.TLSCert == "") == (c.TLSKey == ""), "-tls-cert and -tls-key: give both or neither")
	check(c.ConnectTimeout >= 100*time.Millisecond && c.ConnectTimeout <= 10*time.Minute, "-connect-timeout %s: must be between 100ms and 10m", c.ConnectTimeout)
	check(c.WriteTimeout >= 100*time.Millisecond && c.WriteTimeout <= 10*time.Minute, "-mqtt-write-timeout %s: must be between 100ms and 10m", c.WriteTimeout)
	check(c.MaxClients >= 1, "-max-clients %d: must be at least 1", c.MaxClients)
	check(c.ReceiveMaximum >= 1 && c.ReceiveMaximum <= 65535, "-receive-maximum %d: must be between 1 and 65535", c.ReceiveMaximum)
	check(c.AbuseStrikes >= 0, "-abuse-strikes %d: must be 0 or more", c.AbuseStrikes)
	check(c.ConnectFailures >= 0, "-mqtt-connect-failures %d: must be 0 or more", c.ConnectFailures)
	check(c.ConnectFailureWindow >= time.Second && c.ConnectFailureWindow <= 24*time.Hour, "-mqtt-connect-failure-window %s: must be between 1s and 24h", c.ConnectFailureWindow)
	check(c.UnauthPerSource >= 0, "-mqtt-unauthenticated-per-source %d: must be 0 or more", c.UnauthPerSource)
	check(c.SessionIdle >= time.Minute && c.SessionIdle <= 7*24*time.Hour, "-session-idle %s: must be between 1m and 168h", c.SessionIdle)
	check(c.ScheduleInterval >= 10*time.Millisecond && c.ScheduleInterval <= time.Hour, "-schedule-interval %s: must be between 10ms and 1h", c.ScheduleInterval)
	check(c.NodeID != "", "-node-id: must not be empty (the host name is unknown)")
	check(c.NodeHeartbeat >= 10*time.Millisecond && c.NodeHeartbeat <= time.Minute, "-node-heartbeat %s: must be between 10ms and 1m", c.NodeHeartbeat)
	check(c.NodeDeadAfter >= 3*c.NodeHeartbeat, "-node-dead-after %s: must be at least 3 × -node-heartbeat (%s)", c.NodeDeadAfter, 3*c.NodeHeartbeat)
	check(c.DrainRate > 0, "-drain-rate %g: must be more than 0 devices per second", c.DrainRate)
	check(c.DrainTimeout >= 0, "-drain-timeout %s: must be 0 or more", c.DrainTimeout)
	check(c.LogFormat == "text" || c.LogFormat == "json", "-log-format %q: must be text or json", c.LogFormat)
	var lvl slog.Level
	check(lvl.UnmarshalText([]byte(c.LogLevel)) == nil, "-log-level %q: must be debug, info, warn or error", c.LogLevel)
	return errs
}

// batchLogger is the logger of a command that works through the store in
// one go: text lines at level on w.
func batchLogger(level string, w io.Writer) *slog.Logger {
	return newLogger(Config{LogFormat: "text", LogLevel: level}, w)
}

// newLogger builds the process logger once; packages get it through Options.
func newLogger(c Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
