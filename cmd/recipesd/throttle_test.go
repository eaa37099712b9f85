package main

import (
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/responder"
)

// TestConnectThrottleFlags: the per-source limits come from flags over
// the environment, are on by default, and reach the responder: past the
// failures allowed, a device gets CONNACK 0x9F, right secret or not.
func TestConnectThrottleFlags(t *testing.T) {
	c, err := parseServeFlags(nil, func(string) string { return "" }, nil)
	if err != nil || c.ConnectFailures != 30 || c.ConnectFailureWindow != time.Minute || c.UnauthPerSource != 100 || c.ExemptLoopback {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	env := map[string]string{"RECIPESD_MQTT_CONNECT_FAILURES": "2", "RECIPESD_MQTT_EXEMPT_LOOPBACK": "true"}
	c, err = parseServeFlags([]string{"-mqtt-connect-failure-window", "1h", "-mqtt-unauthenticated-per-source", "0"},
		func(k string) string { return env[k] }, nil)
	if err != nil || c.ConnectFailures != 2 || c.ConnectFailureWindow != time.Hour || c.UnauthPerSource != 0 || !c.ExemptLoopback {
		t.Fatalf("from env and flags: %v %+v", err, c)
	}
	for _, args := range [][]string{{"-mqtt-connect-failures", "-1"}, {"-mqtt-connect-failure-window", "10ms"}, {"-mqtt-unauthenticated-per-source", "-3"}} {
		if _, err := parseServeFlags(args, func(string) string { return "" }, nil); err == nil {
			t.Errorf("%v accepted", args)
		}
	}

	s := MustRunMain(t, func(c *Config) { c.ExemptLoopback, c.ConnectFailures, c.ConnectFailureWindow = false, 2, time.Hour })
	secret := s.MustRegister(t, "oven-1", testModel)
	ctx := testContext(t, 10*time.Second)
	dial := func(password string) byte {
		t.Helper()
		a, err := appliance.Dial(ctx, appliance.Options{Addr: s.MQTTAddr, ID: "oven-1", Password: password})
		if err == nil {
			_ = a.Close()
			return 0
		}
		if a == nil || a.Connack == nil {
			t.Fatalf("no CONNACK: %v", err)
		}
		return a.Connack.ReasonCode
	}
	for _, want := range []byte{0x86, 0x86, 0x9F} {
		if got := dial("wrong"); got != want {
			t.Fatalf("wrong secret: CONNACK 0x%02x, want 0x%02x", got, want)
		}
	}
	if got := dial(secret); got != 0x9F {
		t.Fatalf("right secret from the throttled address: CONNACK 0x%02x, want 0x9f", got)
	}
	if st := s.Responder.Stats(); st.ConnectThrottled != 2 {
		t.Fatalf("%d CONNECTs throttled, want 2", st.ConnectThrottled)
	}
}

// TestConnectThrottleFlags_ZeroMeansNoLimit: -mqtt-connect-failures 0
// turns the limit off, as its help says, although 0 in responder.Options
// means the default (30): past 30 failures a wrong secret is still
// answered 0x86, never 0x9F.
func TestConnectThrottleFlags_ZeroMeansNoLimit(t *testing.T) {
	s := MustRunMain(t, func(c *Config) { c.ExemptLoopback, c.ConnectFailures, c.ConnectFailureWindow = false, 0, time.Hour })
	s.MustRegister(t, "oven-1", testModel)
	ctx := testContext(t, 20*time.Second)
	for i := range 35 {
		a, err := appliance.Dial(ctx, appliance.Options{Addr: s.MQTTAddr, ID: "oven-1", Password: "wrong"})
		if err == nil || a == nil || a.Connack == nil {
			t.Fatalf("attempt %d: no refusing CONNACK: %v", i+1, err)
		}
		if got := a.Connack.ReasonCode; got != 0x86 {
			t.Fatalf("attempt %d with a wrong secret: CONNACK 0x%02x, want 0x86", i+1, got)
		}
	}
}

// TestLimit: the limit flags' 0 (no limit) becomes responder.NoLimit;
// any other value passes as it is.
func TestLimit(t *testing.T) {
	for flag, want := range map[int]int{0: responder.NoLimit, 1: 1, 100: 100} {
		if got := limit(flag); got != want {
			t.Errorf("limit(%d) = %d, want %d", flag, got, want)
		}
	}
}
