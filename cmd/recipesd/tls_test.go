package main

import (
	"context"
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/appliance"
	"github.com/recipesd/recipesd/internal/testcert"
)

// TestTLS: with a certificate, devices connect over TLS (with the same
// authentication), plain MQTT keeps working, and the admin server speaks
// HTTPS.
func TestTLS(t *testing.T) {
	certFile, keyFile, pool := testcert.WriteFiles(t, t.TempDir())
	// The server's log at debug level, shown if the test fails: this test
	// has failed rarely under heavy load (a SUBACK not seen within 10 s),
	// and the log says which side stalled.
	var logs logBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	s := MustRunMainLogged(t, &logs, func(c *Config) {
		c.LogLevel = "debug"
		c.TLSCert, c.TLSKey, c.MQTTTLSAddr = certFile, keyFile, "127.0.0.1:0"
		c.ConnectTimeout = 1500 * time.Millisecond // room for TLS + auth under -race on two busy cores
	})
	tlsAddr := s.Responder.TLSAddr()
	if tlsAddr == "" {
		t.Fatal("no MQTT over TLS listener")
	}
	clientTLS := &tls.Config{RootCAs: pool}
	ctx := testContext(t, 10*time.Second)

	secret := s.MustRegister(t, "tls-oven", "CM-100")
	start := time.Now()
	dev, err := appliance.Dial(ctx, appliance.Options{Addr: tlsAddr, ID: "tls-oven", Password: secret, TLS: clientTLS})
	if err != nil {
		st := s.Responder.Stats()
		t.Fatalf("dial over TLS: %v (after %v; server: %d connected, %d CONNECTs refused, %d malformed, %d write failures)",
			err, time.Since(start), st.Connected, st.AuthRefused, st.Malformed, st.WriteFailures)
	}
	t.Cleanup(func() { _ = dev.Close() })
	if r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/soups/french-onion-soup"}); err != nil || r.Status != 404 {
		t.Fatalf("CM-100 over TLS: %v %v, want 404 (its model applies over TLS too)", r, err)
	}
	if r, err := dev.Ask(ctx, appliance.Request{Topic: "recipes/categories"}); err != nil || r.Status != 200 {
		t.Fatalf("over TLS: %v %v", r, err)
	}
	c, err := appliance.Dial(ctx, appliance.Options{Addr: tlsAddr, ID: "tls-oven", Password: "wrong", TLS: clientTLS})
	if err == nil || c == nil || c.Connack == nil || c.Connack.ReasonCode != 0x86 {
		t.Fatalf("wrong secret over TLS: %v, want CONNACK 0x86", err)
	}
	s.MustDial(t, appliance.Options{}) // plain TCP still works

	// That plain MQTT to the TLS port is closed quickly is responder's
	// TestPlainMQTTOnTLSPortIsClosed.

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: clientTLS}, Timeout: 5 * time.Second}
	url := "https://" + s.Admin.Addr() + "/healthz"
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("GET %s: %s, TLS %v", url, resp.Status, resp.TLS != nil)
	}
	if resp, err := http.Get("http://" + s.Admin.Addr() + "/healthz"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("the admin server answered plain HTTP although it has a certificate")
		}
	}
}

func TestTLSConfigErrors(t *testing.T) {
	env := func(string) string { return "" }
	_, err := parseServeFlags([]string{"-tls-cert", "cert.pem"}, env, nil)
	if err == nil || !strings.Contains(err.Error(), "give both or neither") {
		t.Fatalf("cert without key: %v", err)
	}
	cfg, err := parseServeFlags([]string{"-tls-cert", "no-such.pem", "-tls-key", "no-such.key"}, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RedisURL = "redis://127.0.0.1:1"
	m := &Main{Config: cfg}
	err = m.Run(context.Background())
	_ = m.Close()
	if err == nil || !strings.Contains(err.Error(), "no-such.pem") {
		t.Fatalf("missing certificate: %v, want an error naming the file", err)
	}
}
