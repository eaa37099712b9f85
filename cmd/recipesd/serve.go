package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/audit"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/identity"
	"github.com/recipesd/recipesd/internal/redisconn"
	"github.com/recipesd/recipesd/internal/secretsfile"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// The concrete types meet their consumers' interfaces here, the one place
// that knows both.
var (
	_ responder.Catalog = (*catalog.Store)(nil)
)

// shutdownTimeout bounds a graceful stop.
const shutdownTimeout = 5 * time.Second

// Main is a running server. Its steps are separate so that the end-to-end
// tests start the same program the binary does.
type Main struct {
	Config Config
	Logger *slog.Logger

	// Listeners, when set, are used instead of the configured addresses.
	MQTTListener    net.Listener
	MQTTTLSListener net.Listener // used only with a TLS certificate
	HTTPListener    net.Listener

	RDB       redis.UniversalClient // what Store and the other Redis-backed rooms share
	Store     *catalog.Store
	Identity  *identity.Store // devices, staff, sessions, API tokens; shares Store's Redis
	Responder *responder.Responder
	Node      *cluster.Node // this process in the node registry
	Bus       *cluster.Bus  // this node's messages to and from the others; nil with the embedded store
	Commands  *cluster.Commands
	Admin     *admin.Server
	Metrics   *prometheus.Registry // served on /metrics, read by the dashboard

	// OnScheduleFired, when set before Run, is told of every scheduled
	// publish this node fired, with ctx carrying recipes.SchedulerActor and
	// err saying why it published nothing (nil when it published). It is
	// where the audit log records scheduled publishes.
	OnScheduleFired func(ctx context.Context, p recipes.ScheduledPublish, err error)

	audit *audit.Log // where the admin UI and the scheduler record actions

	// SecretsFile is the file that holds the secrets this start generated;
	// empty if it generated none.
	SecretsFile string

	demoSecret    string // the demo device's secret, on the start that created it
	adminPassword string // the first admin's generated password, likewise

	stopRevocations func() // ends the revocation watch and waits for it
	stopScheduler   func() // ends the scheduler and waits for it
	drainRequested  *drainTrigger
	closeRedis      func() error // closes Redis, after everything built on it
}

// serve runs "recipesd serve" until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Logger: newLogger(cfg, stderr)}
	redisconn.RouteDriverLogs(m.Logger.With("component", "catalog"))
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return err
	}
	return m.Serve(ctx)
}

// Run opens the store and starts the responder and the admin server.
func (m *Main) Run(ctx context.Context) error {
	c, log := m.Config, m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
		m.Logger = log
	}
	tlsConfig, err := loadTLS(c)
	if err != nil {
		return err
	}
	m.RDB, m.closeRedis, err = openRedis(ctx, c.StoreConfig, c.StoreTimeout, log)
	if err != nil {
		return err
	}
	store, err := catalog.Open(ctx, m.RDB, catalog.Options{
		KeyPrefix:     c.KeyPrefix,
		Timeout:       c.StoreTimeout,
		Logger:        log,
		RevisionsKept: c.RevisionsKept,
	})
	if err != nil {
		return err
	}
	m.Store = store
	if m.Identity, err = openIdentity(ctx, m.RDB, c.StoreConfig, c.StoreTimeout, c.PasswordCost, log); err != nil {
		return err
	}
	if c.Demo {
		if err := m.loadDemo(ctx); err != nil {
			return err
		}
	}

	if err := m.newNode(); err != nil {
		return err
	}
	m.Responder = responder.New(store, responder.Options{
		Addr:          c.MQTTAddr,
		Listener:      m.MQTTListener,
		ReplyExpiry:   c.ReplyExpiry,
		StoreTimeout:  c.StoreTimeout,
		Workers:       c.Workers,
		RequestRate:   c.DeviceRate,
		RequestBurst:  c.DeviceBurst,
		MaxPacketSize: uint32(c.MaxPacketSize),
		Logger:        log,

		Devices:            m.Identity,
		Presence:           m.responderPresence(),
		AllowAnonymous:     c.AllowAnonymous,
		TLS:                tlsConfig,
		TLSAddr:            c.MQTTTLSAddr,
		TLSListener:        m.MQTTTLSListener,
		FirstPacketTimeout: c.ConnectTimeout,
		WriteTimeout:       c.WriteTimeout,
		MaxClients:         c.MaxClients,
		ReceiveMaximum:     uint16(c.ReceiveMaximum),
		AbuseStrikes:       limit(c.AbuseStrikes),

		ConnectFailures:        limit(c.ConnectFailures),
		ConnectFailureWindow:   c.ConnectFailureWindow,
		MaxUnauthenticated:     limit(c.UnauthPerSource),
		ThrottleExemptLoopback: c.ExemptLoopback,
	})
	// Watching before listening: no device can be admitted on a
	// registration that changes unannounced in between.
	if err := m.watchRevocations(ctx); err != nil {
		return err
	}
	m.watchTakeovers()
	m.watchDrainRequests()
	m.startCommands()
	if err := m.startBus(ctx); err != nil {
		return err
	}
	if err := m.Responder.Start(ctx); err != nil {
		return err
	}
	if err := m.startNode(ctx); err != nil {
		return err
	}

	m.Metrics = prometheus.NewRegistry()
	m.Metrics.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Responder.Collector(),
		store.Collector(),
		m.Identity.Collector(),
		m.Node.Collector(),
		m.Commands.Collector(),
	)

	if err := m.ensureAdmin(ctx); err != nil {
		return err
	}
	if err := m.saveSecrets(); err != nil {
		return err
	}
	m.audit = openAudit(m.RDB, c.StoreConfig, c.StoreTimeout)
	m.Admin = admin.New(adminStore{store, m.Identity}, admin.Options{
		Addr:             c.HTTPAddr,
		Listener:         m.HTTPListener,
		MQTTAddr:         m.Responder.Addr(),
		Logger:           log,
		SessionIdle:      c.SessionIdle,
		SecureCookies:    c.SecureCookies,
		Metrics:          m.Metrics,
		TLSConfig:        tlsConfig,
		Appliances:       appliances{m.Responder, m.Commands},
		Nodes:            m.Node,
		Drain:            m.Node,
		NodeID:           c.NodeID,
		Presence:         presence{m},
		Previews:         previews{store, m.Responder},
		AnonymousDevices: c.AllowAnonymous,
		Audit:            m.audit,
	})
	if err := m.Admin.Start(ctx); err != nil {
		return err
	}
	if plainHTTPExposed(m.Admin.Addr(), tlsConfig != nil, c.SecureCookies) {
		log.Warn("staff sign in over plain HTTP on a network address: passwords and session cookies cross the network readable; "+
			"give -tls-cert and -tls-key, or put a TLS proxy in front and set -secure-cookies, or listen on 127.0.0.1",
			"addr", m.Admin.Addr())
	}
	m.startScheduler(ctx)
	secrets := ""
	if m.demoSecret != "" {
		secrets = m.SecretsFile
	}
	log.Info("ready: ask for recipes with", "command", tryCommand(m.Responder.Addr(), c.AllowAnonymous, secrets))
	return nil
}

// Close stops everything in reverse start order within shutdownTimeout:
// the HTTP side first, then the responder (which answers the requests it
// has accepted), then this node's entry in the registry, then the store. It is safe to call more than once.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	if m.stopScheduler != nil {
		m.stopScheduler()
		m.stopScheduler = nil
	}
	if m.Admin != nil {
		errs = append(errs, m.Admin.Close(ctx))
	}
	if m.stopRevocations != nil {
		m.stopRevocations()
		m.stopRevocations = nil
	}
	if m.Responder != nil {
		errs = append(errs, m.Responder.Close(ctx))
	}
	if m.Bus != nil {
		// After the responder: the commands it ended still answer.
		errs = append(errs, m.Bus.Close())
	}
	if m.Node != nil {
		// Not a failed shutdown: without its heartbeat, the others see
		// this node dead within its liveness bound anyway.
		if err := m.Node.Close(ctx); err != nil {
			m.Logger.Warn("could not remove this node from the node registry; the other nodes see it dead after -node-dead-after", "err", err)
		}
	}
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	if m.closeRedis != nil {
		errs = append(errs, m.closeRedis())
		m.closeRedis = nil
	}
	return errors.Join(errs...)
}

// loadDemo fills an empty store with the demo catalog.
func (m *Main) loadDemo(ctx context.Context) error {
	cats, err := m.Store.Categories(ctx)
	if err != nil {
		return fmt.Errorf("check whether the catalog is empty: %w", err)
	}
	if len(cats) > 0 {
		return nil
	}
	demo, err := seed.Demo()
	if err != nil {
		return fmt.Errorf("demo catalog: %w", err)
	}
	if err := seed.Load(ctx, seedWriter{m.Store, m.Identity}, demo); err != nil {
		return fmt.Errorf("load demo catalog: %w", err)
	}
	m.Logger.Info("loaded the demo catalog into the empty store",
		"categories", len(demo.Categories), "recipes", len(demo.Recipes))
	m.demoSecret, err = m.addDemoDevice(ctx)
	return err
}

// addDemoDevice registers the demo device unless it exists and returns its
// secret ("" if it existed), which [Main.saveSecrets] writes to the
// secrets file; like every secret, it is never logged.
func (m *Main) addDemoDevice(ctx context.Context) (string, error) {
	secret, err := m.Identity.AddDevice(ctx, seed.DemoDeviceID, seed.DemoDeviceModel)
	if recipes.ErrorCode(err) == recipes.ECONFLICT {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("add demo device: %w", err)
	}
	m.Logger.Info("registered the demo device", "device", seed.DemoDeviceID, "model", seed.DemoDeviceModel)
	return secret, nil
}

// ensureAdmin creates the first admin account on a store without staff
// accounts, with the password from RECIPESD_ADMIN_PASSWORD or a generated
// one, which [Main.saveSecrets] then writes to the secrets file: otherwise
// nobody could sign in.
func (m *Main) ensureAdmin(ctx context.Context) error {
	created, generated, err := m.Identity.EnsureAdmin(ctx, m.Config.AdminPassword)
	switch {
	case err != nil:
		return fmt.Errorf("create the first admin account: %w", err)
	case created && generated != "":
		m.adminPassword = generated
	case created:
		m.Logger.Info("created the first admin account with the password from RECIPESD_ADMIN_PASSWORD", "name", identity.FirstAdmin)
	}
	return nil
}

// secretsFileName is the file in the data directory where a start leaves
// the secrets it generated: the first admin's password and the demo
// device's secret (see [secretsfile]).
const secretsFileName = "first-start-secrets.txt"

// Keys of the secrets file, one "key=value" a line.
const (
	keyAdminName        = "admin_name"
	keyAdminPassword    = "admin_password"
	keyDemoDevice       = "demo_device"
	keyDemoDeviceSecret = "demo_device_secret"
)

// saveSecrets writes the secrets this start generated to the secrets file
// and says where they are. Only the path reaches the log.
func (m *Main) saveSecrets() error {
	var kv [][2]string
	if m.adminPassword != "" {
		kv = append(kv, [2]string{keyAdminName, identity.FirstAdmin}, [2]string{keyAdminPassword, m.adminPassword})
	}
	if m.demoSecret != "" {
		kv = append(kv, [2]string{keyDemoDevice, seed.DemoDeviceID}, [2]string{keyDemoDeviceSecret, m.demoSecret})
	}
	if len(kv) == 0 {
		return nil
	}
	path, err := secretsfile.Save(cmp.Or(m.Config.DataDir, "."), secretsFileName, kv, time.Now())
	if err != nil {
		// What was generated is lost with this start; say how to replace it.
		return fmt.Errorf("save the generated secrets: %w (issue new ones with \"recipesd user passwd %s\" and \"recipesd device rotate %s\")",
			err, identity.FirstAdmin, seed.DemoDeviceID)
	}
	m.SecretsFile = path
	if m.adminPassword != "" {
		m.Logger.Warn("created the first admin account; its password is in the secrets file, readable only by this user: "+
			"sign in, keep it safe, delete the file (change it with: recipesd user passwd admin)", "name", identity.FirstAdmin, "file", path)
	}
	if m.demoSecret != "" {
		m.Logger.Info("registered the demo device; its secret is in the secrets file", "device", seed.DemoDeviceID, "file", path)
	}
	return nil
}

// watchRevocations ends a device's session as soon as anyone — the admin
// UI, the API, the CLI, a seed, another server — disables, deletes or
// re-keys it or changes its model, so that the change takes effect now
// and not at the device's next CONNECT.
func (m *Main) watchRevocations(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	log := m.Logger.With("component", "devices")
	wait, err := m.Identity.WatchRevokedDevices(wctx, func(id string) {
		if m.Responder.Revoke(id) {
			log.Info("device session ended: its registration changed", "device", id)
		}
	})
	if err != nil {
		cancel()
		return fmt.Errorf("watch device revocations: %w", err)
	}
	m.stopRevocations = func() { cancel(); wait() }
	return nil
}
