package cluster_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestCommandFromEveryNode: a command sent through any node's HTTP API
// reaches a device connected to any other node, and its answer comes
// back as the 200 body (issue 12 item 4).
func TestCommandFromEveryNode(t *testing.T) {
	v := envOrSkip(t, "RECIPESD_E2E_BIN", "RECIPESD_E2E_REDIS_CLUSTER")
	f := startFleet(t, v[0], v[1], 3)
	var ids []string
	for _, nd := range f.nodes {
		ids = append(ids, "cmd-"+nd.id)
	}
	f.register(t, ids...)
	for i, nd := range f.nodes {
		f.commandable(t, nd.mqtt, ids[i])
	}
	for i, on := range f.nodes {
		// Presence first: a command to a device whose connection is not yet
		// known cluster-wide would be a test of timing.
		if err := f.presenceAgrees(ids[i], deadAfter, connectedOn(on.id)); err != nil {
			t.Errorf("%s connected on %s: presence %v", ids[i], on.id, err)
		}
	}
	for i, on := range f.nodes {
		for _, via := range f.nodes {
			t.Run(fmt.Sprintf("%s_via_%s", on.id, via.id), func(t *testing.T) {
				var a struct {
					Status int `json:"status"`
					Result struct {
						Device, Method string
					} `json:"result"`
					Error json.RawMessage `json:"error"`
				}
				code, err := f.do(http.MethodPost, via.http, "/api/devices/"+ids[i]+"/rpc",
					map[string]any{"method": "lid.lock", "timeout_ms": 5000}, &a)
				if err != nil {
					t.Fatal(err)
				}
				if code != http.StatusOK || a.Status != 200 || a.Result.Device != ids[i] || a.Result.Method != "lid.lock" {
					t.Fatalf("POST /api/devices/%s/rpc on %s (device on %s): HTTP %d, status %d, result %+v, error %s",
						ids[i], via.id, on.id, code, a.Status, a.Result, a.Error)
				}
			})
		}
	}
}
