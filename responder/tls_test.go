package responder_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/recipesd/recipesd/internal/mqtttest"
	"github.com/recipesd/recipesd/responder"
)

// selfSigned returns a server TLS configuration for 127.0.0.1, as recipesd
// builds from its -tls-cert and -tls-key, and a pool that trusts it. The
// certificate is the one net/http/httptest keeps for tests, which a TLS
// server of its own hands out.
func selfSigned(tb testing.TB) (*tls.Config, *x509.CertPool) {
	tb.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	defer ts.Close()
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &tls.Config{Certificates: ts.TLS.Certificates, MinVersion: tls.VersionTLS12}, pool
}

// TestPlainMQTTOnTLSPortIsClosed: plain MQTT to the TLS port is not a TLS
// handshake: the connection is closed, quickly.
func TestPlainMQTTOnTLSPortIsClosed(t *testing.T) {
	serverTLS, _ := selfSigned(t)
	s := mustServe(t, func(o *responder.Options) {
		o.TLS, o.TLSAddr = serverTLS, "127.0.0.1:0"
		o.FirstPacketTimeout = 1500 * time.Millisecond // room for TLS + auth under -race on two busy cores
	})
	secret := s.MustRegister(t, "tls-oven", "CM-100")
	raw := mqtttest.Dial(t, s.Responder.TLSAddr())
	raw.Send(t, mqtttest.Connect("tls-oven", "tls-oven", secret, nil))
	start := time.Now()
	if _, err := raw.ClosedAfter(); err != nil || time.Since(start) > 4*time.Second {
		t.Fatalf("plain MQTT on the TLS port: %v after %v", err, time.Since(start))
	}
}
