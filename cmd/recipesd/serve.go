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

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/catalog"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// The concrete types meet their consumers' interfaces here, the one place
// that knows both.
var (
	_ responder.Catalog = (*catalog.Store)(nil)
	_ admin.Store       = (*catalog.Store)(nil)
	_ seed.Writer       = (*catalog.Store)(nil)
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

	Store     *catalog.Store
	Responder *responder.Responder
	Admin     *admin.Server

	demoSecret string // the demo device's secret, on the start that created it

	stopRevocations func() // ends the revocation watch and waits for it
}

// serve runs "recipesd serve" until ctx ends.
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	m := &Main{Config: cfg, Logger: newLogger(cfg, stderr)}
	catalog.RouteDriverLogs(m.Logger.With("component", "catalog"))
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return err
	}
	<-ctx.Done()
	m.Logger.Info("shutting down")
	return m.Close()
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
	store, err := catalog.Open(ctx, catalog.Options{
		RedisURL:  c.RedisURL,
		DataDir:   c.DataDir,
		KeyPrefix: c.KeyPrefix,
		Timeout:   c.StoreTimeout,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	m.Store = store
	if c.Demo {
		if err := m.loadDemo(ctx); err != nil {
			return err
		}
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

		Devices:            store,
		AllowAnonymous:     c.AllowAnonymous,
		TLS:                tlsConfig,
		TLSAddr:            c.MQTTTLSAddr,
		TLSListener:        m.MQTTTLSListener,
		FirstPacketTimeout: c.ConnectTimeout,
		MaxClients:         c.MaxClients,
		ReceiveMaximum:     uint16(c.ReceiveMaximum),
		AbuseStrikes:       cmp.Or(c.AbuseStrikes, -1), // 0 means never

		ConnectFailures:        cmp.Or(c.ConnectFailures, -1), // 0 means no limit
		ConnectFailureWindow:   c.ConnectFailureWindow,
		MaxUnauthenticated:     cmp.Or(c.UnauthPerSource, -1),
		ThrottleExemptLoopback: c.ExemptLoopback,
	})
	// Watching before listening: no device can be admitted on a
	// registration that changes unannounced in between.
	if err := m.watchRevocations(ctx); err != nil {
		return err
	}
	if err := m.Responder.Start(ctx); err != nil {
		return err
	}

	if err := m.ensureAdmin(ctx); err != nil {
		return err
	}
	m.Admin = admin.New(store, admin.Options{
		Addr:          c.HTTPAddr,
		Listener:      m.HTTPListener,
		MQTTAddr:      m.Responder.Addr(),
		Logger:        log,
		SessionIdle:   c.SessionIdle,
		SecureCookies: c.SecureCookies,
		Stats:         m.adminStats,
		TLSConfig:     tlsConfig,
		Appliances:    &appliances{store: store, responder: m.Responder, anonymous: c.AllowAnonymous},
	})
	if err := m.Admin.Start(ctx); err != nil {
		return err
	}
	log.Info("ready: ask for recipes with", "command", tryCommand(m.Responder.Addr(), c.AllowAnonymous, m.demoSecret))
	return nil
}

// watchRevocations ends a device's session as soon as anyone — the admin
// UI, the API, the CLI, a seed, another server — disables, deletes or
// re-keys it or changes its model, so that the change takes effect now
// and not at the device's next CONNECT.
func (m *Main) watchRevocations(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	log := m.Logger.With("component", "devices")
	wait, err := m.Store.WatchRevokedDevices(wctx, func(id string) {
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
	if err := seed.Load(ctx, m.Store, demo); err != nil {
		return fmt.Errorf("load demo catalog: %w", err)
	}
	m.Logger.Info("loaded the demo catalog into the empty store",
		"categories", len(demo.Categories), "recipes", len(demo.Recipes))
	m.demoSecret, err = m.addDemoDevice(ctx)
	return err
}

// Close stops everything in reverse start order within shutdownTimeout:
// the HTTP side first, then the responder (which answers the requests it
// has accepted), then the store. It is safe to call more than once.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
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
	if m.Store != nil {
		errs = append(errs, m.Store.Close())
	}
	return errors.Join(errs...)
}

// tryCommand is the mosquitto_rr line that asks the server for its
// categories as the demo device, printed at start so a newcomer can try it
// at once. Only the start that created the demo device knows its secret.
func tryCommand(addr string, anonymous bool, secret string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" || host == "[::]" {
		host = "127.0.0.1"
	}
	creds := ""
	switch {
	case secret != "":
		creds = " -u " + demoDeviceID + " -P " + secret
	case !anonymous:
		creds = " -u " + demoDeviceID + " -P '<its secret>'"
	}
	return fmt.Sprintf("mosquitto_rr -V 5 -h %s -p %s -i %s%s -q 1 -t recipes/categories -e devices/%s/replies -m '' -W 5",
		host, port, demoDeviceID, creds, demoDeviceID)
}
