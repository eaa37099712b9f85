package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder"
)

// The node's drain (SIGTERM, "recipesd drain", the admin UI's button all
// end here) and "recipesd drain".

var _ admin.Drain = (*cluster.Node)(nil)

// drainTrigger is closed once by the first drain request for this node.
type drainTrigger struct {
	once sync.Once
	ch   chan struct{}
}

func (t *drainTrigger) fire() { t.once.Do(func() { close(t.ch) }) }

// watchDrainRequests makes a drain request for this node end
// [Main.Serve] as SIGTERM does: one over the node bus, or, on the
// embedded store, the admin UI's button for this node. Call it before the
// bus starts.
func (m *Main) watchDrainRequests() {
	m.drainRequested = &drainTrigger{ch: make(chan struct{})}
	m.Node.HandleDrainRequests(m.drainRequested.fire)
}

// Serve runs the started server until ctx ends (SIGTERM, SIGINT) or a
// drain request arrives, then drains it (bounded by -drain-timeout) and
// closes it.
func (m *Main) Serve(ctx context.Context) error {
	var requested <-chan struct{}
	if m.drainRequested != nil {
		requested = m.drainRequested.ch
	}
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case <-requested:
		m.Logger.Info("drain requested: shutting down")
	}
	if err := m.Drain(context.Background()); err != nil {
		m.Logger.Warn("drain not finished; closing the remaining connections", "err", err)
	}
	return m.Close()
}

// Drain marks this node draining in the registry (peers stop sending it
// devices, /readyz answers 503), then sends its devices to the least
// loaded live peers at -drain-rate, within -drain-timeout.
func (m *Main) Drain(ctx context.Context) error {
	if m.Responder == nil || m.Config.DrainTimeout <= 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, m.Config.DrainTimeout)
	defer cancel()
	var refer func(context.Context) string
	if m.Node != nil {
		if err := m.Node.SetDraining(ctx, true); err != nil {
			m.Logger.Warn("could not mark this node draining in the registry; its next heartbeat retries", "err", err)
		}
		refer = m.referrer()
	}
	return m.Responder.Drain(ctx, responder.DrainOptions{Rate: m.Config.DrainRate, Refer: refer})
}

// referrer returns where each drained device is sent: the advertised MQTT
// address of the least loaded live peer that does not drain. A registry
// that cannot be read is logged once; the last list read still serves.
func (m *Main) referrer() func(context.Context) string {
	peers := m.Node.Peers(m.Config.NodeID, time.Second)
	var warned sync.Once
	return func(ctx context.Context) string {
		addr, err := peers.Pick(ctx)
		if err != nil {
			warned.Do(func() { m.Logger.Warn("cannot read the node registry while draining", "err", err) })
		}
		return addr
	}
}

const drainUsage = `Usage:
  recipesd drain [-wait] [-timeout D] NODE-ID
                         ask a node to send its devices to the others and stop

The node marks itself draining (its /readyz answers 503), takes no new
connections, answers the requests it has, then disconnects its devices at
its -drain-rate with DISCONNECT 0x9C and the address of the least loaded
live node, and exits as on SIGTERM. The node confirms the request before
it starts; with -wait the command then returns once the node has left
the registry. The store flags say which Redis.

Flags:
`

// drainCmd runs "recipesd drain".
func drainCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sc      StoreConfig
		wait    bool
		timeout time.Duration
	)
	e := newEnvFlags("recipesd drain", drainUsage, getenv, stderr)
	e.store(&sc)
	e.fs.BoolVar(&wait, "wait", false, "wait until the node has left the registry")
	e.fs.DurationVar(&timeout, "timeout", 10*time.Minute, "with -wait: the longest wait")
	pos, err := parseStoreCommand(e, &sc, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("drain: give one node ID (recipesd nodes lists them)")
	}
	id := pos[0]
	store, err := openStore(ctx, sc, 5*time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	reg := cluster.NewRegistry(store.rdb, sc.KeyPrefix, 5*time.Second, nil)
	// A bus of its own, under an ID no node has, to receive the node's
	// receipt on.
	bus := cluster.NewBus(store.rdb, cluster.BusOptions{Node: "cli-" + rand.Text(), KeyPrefix: sc.KeyPrefix, Timeout: 5 * time.Second})
	if err := bus.Start(ctx); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	defer bus.Close()
	receipt, err := reg.RequestDrain(ctx, bus, id)
	store.record(ctx, stderr, "drain", "node="+id, "", err)
	if err != nil {
		if c := recipes.ErrorCode(err); c == recipes.ENOTFOUND || c == recipes.ECONFLICT {
			return fmt.Errorf("drain: %s", recipes.ErrorMessage(err))
		}
		return fmt.Errorf("drain: %w", err)
	}
	if receipt.Already {
		fmt.Fprintf(stdout, "%s confirmed the request; it had been asked to drain already\n", id)
	} else {
		fmt.Fprintf(stdout, "%s confirmed the request and drains\n", id)
	}
	if !wait {
		return nil
	}
	return waitDrained(ctx, reg, id, timeout, stdout)
}

// waitDrained waits until node id has left the registry, saying how many
// devices it still holds as they change.
func waitDrained(ctx context.Context, reg *cluster.Registry, id string, timeout time.Duration, stdout io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	last := -1
	for {
		nodes, err := reg.Nodes(ctx)
		if err != nil && nodes == nil {
			return fmt.Errorf("drain: watch %s: %w", id, err)
		}
		i := slices.IndexFunc(nodes, func(n recipes.Node) bool { return n.ID == id })
		switch {
		case i < 0:
			fmt.Fprintf(stdout, "%s has drained and stopped\n", id)
			return nil
		case !nodes[i].Alive:
			return fmt.Errorf("drain: %s stopped heartbeating before it left the registry (crashed or lost Redis); its devices reconnect elsewhere on their own", id)
		case nodes[i].Devices != last:
			last = nodes[i].Devices
			fmt.Fprintf(stdout, "%s: %d devices left\n", id, last)
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("drain: %s still registered after %s (it drains at its -drain-rate within its -drain-timeout)", id, timeout)
			}
			return ctx.Err()
		case <-t.C:
		}
	}
}
