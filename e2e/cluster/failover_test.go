package cluster_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Load of the failover tests: devices through HAProxy, each asking every
// loadEvery (60 devices: 240 requests per second in all).
const (
	loadDevices = 60
	loadEvery   = 250 * time.Millisecond
)

func loadIDs(prefix string, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%02d", prefix, i)
	}
	return ids
}

// TestKillNodeUnderLoad: kill -9 one of three nodes while devices send
// QoS 1 requests through HAProxy. Its devices reconnect through HAProxy
// to the others and are answered, no request is lost to a device that
// re-sends, and presence converges on every node within the liveness
// bound: the devices that moved are shown on their new node, and one
// that stays away is offline (issue 12 items 2, 5 and 7).
func TestKillNodeUnderLoad(t *testing.T) {
	v := envOrSkip(t, "RECIPESD_E2E_BIN", "RECIPESD_E2E_REDIS_CLUSTER")
	f := startFleet(t, v[0], v[1], 3)
	f.startLB(t)
	ids := loadIDs("kill", loadDevices)
	const stray = "kill-stray" // connected straight to the victim, never back
	f.register(t, append(ids, stray)...)
	l := f.startLoad(t, ids, f.lbMQTT, loadEvery)
	if late := l.waitAnswered(time.Now(), 20*time.Second); len(late) > 0 {
		t.Fatalf("%d devices never answered through HAProxy before the kill: %v", len(late), late)
	}
	victim := f.nodes[1]
	f.commandable(t, victim.mqtt, stray)
	if err := f.presenceAgrees(stray, deadAfter, connectedOn(victim.id)); err != nil {
		t.Errorf("before the kill: %s: %v", stray, err)
	}

	victim.p.kill()
	killed := time.Now()
	t.Logf("killed %s", victim.id)
	// Liveness bound: dead after deadAfter, seen by the next heartbeat
	// or lookup; one heartbeat and a second of slack for this machine.
	bound := deadAfter + heartbeat + time.Second
	if err := f.presenceAgrees(stray, bound, offline); err != nil {
		t.Errorf("%s was on the killed node: presence %v after %v (bound %v)", stray, err, time.Since(killed).Round(time.Millisecond), bound)
	} else {
		t.Logf("the killed node's device offline on every node after %v", time.Since(killed).Round(time.Millisecond))
	}
	if late := l.waitAnswered(time.Now(), 20*time.Second); len(late) > 0 {
		t.Errorf("%d devices not answered after the kill: %v", len(late), late)
	}
	err := f.presenceAllAgree(ids, bound, func(p presence) bool {
		return p.Connected && p.Node != victim.id && p.Node != ""
	})
	if err != nil {
		t.Errorf("presence of the devices under load after the kill: %v", err)
	}
	if err := l.drain(15 * time.Second); err != nil {
		t.Error(err)
	}
	sent, connects, statuses, disconnects, _ := l.totals()
	t.Logf("%d requests, replies by status %v, %d connects, ends %s", sent, statuses, connects, fmtReasons(disconnects))
	if n := len(statuses) - statuses[200]; statuses[200] == 0 || len(statuses) > 1 {
		t.Errorf("replies by status %v: want only 200 (%d others)", statuses, n)
	}
	if connects <= len(ids) {
		t.Errorf("%d connects for %d devices: the killed node's devices did not reconnect", connects, len(ids))
	}
}

// TestRollingRestartUnderLoad: SIGTERM each node in turn, wait for it to
// exit (status 0), start it again and wait for /readyz, while devices send
// QoS 1 requests through HAProxy: a device that re-sends unanswered
// requests after reconnecting loses none; the drained devices were told
// DISCONNECT 0x9C with a Server Reference (issue 12 item 5).
func TestRollingRestartUnderLoad(t *testing.T) {
	v := envOrSkip(t, "RECIPESD_E2E_BIN", "RECIPESD_E2E_REDIS_CLUSTER")
	f := startFleet(t, v[0], v[1], 3)
	f.startLB(t)
	ids := loadIDs("roll", loadDevices)
	f.register(t, ids...)
	l := f.startLoad(t, ids, f.lbMQTT, loadEvery)
	if late := l.waitAnswered(time.Now(), 20*time.Second); len(late) > 0 {
		t.Fatalf("%d devices never answered through HAProxy: %v", len(late), late)
	}
	for _, nd := range f.nodes {
		began := time.Now()
		if err := nd.p.stop(30 * time.Second); err != nil {
			t.Fatalf("%s after SIGTERM: %v\n%s", nd.id, err, nd.p.tail(20))
		}
		stopped := time.Now()
		nd.start(t)
		t.Logf("%s: drained and exited in %v, ready again in %v", nd.id,
			stopped.Sub(began).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond))
		if late := l.waitAnswered(time.Now(), 20*time.Second); len(late) > 0 {
			t.Fatalf("after restarting %s, %d devices not answered: %v", nd.id, len(late), late)
		}
		// HAProxy must see the node up again (rise 2 × inter 1s) before
		// the next one goes, or the last node standing takes everyone.
		time.Sleep(2500 * time.Millisecond)
	}
	if err := l.drain(20 * time.Second); err != nil {
		t.Error(err)
	}
	sent, connects, statuses, disconnects, refs := l.totals()
	t.Logf("%d requests, replies by status %v, %d connects, ends %s, %d server references", sent, statuses, connects, fmtReasons(disconnects), len(refs))
	if statuses[200] == 0 || len(statuses) > 1 {
		t.Errorf("replies by status %v: want only 200", statuses)
	}
	if disconnects[0x9C] == 0 {
		t.Errorf("no device was told DISCONNECT 0x9C (use another server) by a draining node; ends %s", fmtReasons(disconnects))
	}
	if len(refs) < disconnects[0x9C] {
		t.Errorf("%d DISCONNECT 0x9C, only %d with a Server Reference", disconnects[0x9C], len(refs))
	}
	for _, ref := range refs {
		ok := false
		for _, nd := range f.nodes {
			ok = ok || ref == nd.mqtt
		}
		if !ok {
			t.Errorf("Server Reference %q is no node's advertised MQTT address", ref)
			break
		}
	}
}

func fmtReasons(m map[byte]int) string {
	var parts []string
	for k, v := range m {
		if k == 0xFF {
			parts = append(parts, fmt.Sprintf("closed without DISCONNECT: %d", v))
		} else {
			parts = append(parts, fmt.Sprintf("0x%02X: %d", k, v))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
