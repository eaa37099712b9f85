package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/recipes"
)

const nodesUsage = `Usage:
  recipesd nodes [-json]   list the recipesd nodes sharing the store

Each node renews its entry every -node-heartbeat; one whose last heartbeat
is older than its -node-dead-after is listed dead (ALIVE false), and is
forgotten after as long again. The store flags (-data-dir, -redis-url,
-key-prefix) say which store; an embedded store in use by a running server
is locked, so in practice this lists the nodes of a Redis.

Flags:
`

// nodesCmd runs "recipesd nodes".
func nodesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var (
		sc     StoreConfig
		asJSON bool
	)
	e := newEnvFlags("recipesd nodes", nodesUsage, getenv, stderr)
	e.store(&sc)
	e.fs.BoolVar(&asJSON, "json", false, "list as JSON")
	pos, err := parseStoreCommand(e, &sc, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("nodes: unexpected argument %q", pos[0])
	}
	timeout := 5 * time.Second
	store, err := openStore(ctx, sc, timeout, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer store.Close()
	nodes, err := cluster.NewRegistry(store.rdb, sc.KeyPrefix, timeout, nil).Nodes(ctx)
	if err != nil {
		return fmt.Errorf("nodes: %w", err)
	}
	now := time.Now()
	return newListing(nodes, "ID\tMQTT ADDRESS\tVERSION\tDEVICES\tLAST HEARTBEAT\tDRAINING\tALIVE", func(n recipes.Node) string {
		return fmt.Sprintf("%s\t%s\t%s\t%d\t%s ago\t%t\t%t", n.ID, n.Addr, n.Version, n.Devices,
			now.Sub(n.LastHeartbeat).Round(time.Second), n.Draining, n.Alive)
	}).print(stdout, asJSON)
}
