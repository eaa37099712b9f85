package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/cluster"
	"github.com/recipesd/recipesd/responder"
)

var (
	_ admin.Appliances = appliances{}
	_ cluster.Local    = localCalls{}
	_ cluster.Locator  = (*cluster.Node)(nil)
)

// appliances lets admin command devices, wherever they are connected,
// through the cluster's commands: only the call's shape differs.
type appliances struct {
	*responder.Responder
	commands *cluster.Commands
}

func (a appliances) Call(ctx context.Context, c admin.ApplianceCall) (admin.ApplianceAnswer, error) {
	ans, err := a.commands.Call(ctx, cluster.Command{Device: c.Device, Method: c.Method, Params: c.Params, Timeout: c.Timeout,
		Key: c.IdempotencyKey, Caller: c.Caller})
	return admin.ApplianceAnswer{Status: ans.Status, Body: ans.Body, Replayed: ans.Replayed}, err
}

func (a appliances) IdempotencyWindow() time.Duration { return a.commands.IdempotencyWindow() }

// localCalls lets the cluster's commands reach the devices connected here.
type localCalls struct{ *responder.Responder }

func (l localCalls) Call(ctx context.Context, id, method string, params json.RawMessage, timeout time.Duration) (cluster.Answer, error) {
	res, err := l.Responder.Call(ctx, id, method, params, timeout)
	return cluster.Answer{Status: res.Status, Body: res.Body}, err
}

// startCommands makes commands to devices work from this node: in cluster
// mode (an external Redis) over the node bus, to whichever node holds the
// device; with the embedded store, the one node, locally. Idempotency
// keys are kept in Redis either way.
func (m *Main) startCommands() {
	c := m.Config
	m.Commands = cluster.NewCommands(m.RDB, localCalls{m.Responder}, cluster.CommandOptions{
		Node: c.NodeID, Bus: m.Bus, Presence: m.Node, KeyPrefix: c.KeyPrefix, Timeout: c.StoreTimeout, Logger: m.Logger,
	})
}
