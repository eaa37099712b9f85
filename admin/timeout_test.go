package admin_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/recipesd/recipesd/admin"
	"github.com/recipesd/recipesd/internal/testcert"
)

// MustStart starts the admin server over store on a loopback port.
func MustStart(tb testing.TB, store *fakeStore, opts admin.Options) *admin.Server {
	tb.Helper()
	store.tb = tb
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts.Listener = ln
	s := admin.New(store, opts)
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return s
}

// TestConnectionTimeouts holds connections open over real TCP the way a
// slow or idle client does, and checks that the server closes each one
// within its timeout, over HTTP and HTTPS.
func TestConnectionTimeouts(t *testing.T) {
	const (
		headerTimeout = 200 * time.Millisecond
		readTimeout   = 400 * time.Millisecond
		idleTimeout   = 400 * time.Millisecond
		// patience is how long the client waits for the server to close:
		// far longer than any timeout above, far shorter than no timeout.
		patience = 5 * time.Second
	)
	healthz := "GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n"
	tests := []struct {
		name  string
		send  string // what the client sends, then it waits
		reply bool   // whether a full response comes first
	}{
		{"HalfHeaders", "GET /healthz HTTP/1.1\r\nHost: test\r\n", false},
		{"HalfBody", "POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
			"Content-Length: 100\r\n\r\nname=a", false},
		{"IdleKeepAlive", healthz, true},
		{"Nothing", "", false},
	}
	for _, scheme := range []string{"http", "https"} {
		t.Run(scheme, func(t *testing.T) {
			opts := admin.Options{ReadHeaderTimeout: headerTimeout, ReadTimeout: readTimeout, IdleTimeout: idleTimeout}
			var (
				cert tls.Certificate
				pool *x509.CertPool
			)
			if scheme == "https" {
				cert, pool = testcert.New(t)
				opts.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
			}
			s := MustStart(t, &fakeStore{}, opts)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					conn, err := net.Dial("tcp", s.Addr())
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					if scheme == "https" && tt.send != "" {
						tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
						if err := tc.Handshake(); err != nil {
							t.Fatal(err)
						}
						conn = tc
					}
					if _, err := io.WriteString(conn, tt.send); err != nil {
						t.Fatal(err)
					}
					_ = conn.SetReadDeadline(time.Now().Add(patience))
					got, err := io.ReadAll(conn)
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						t.Fatalf("the connection is still open after %s (read %q)", patience, got)
					}
					if tt.reply && len(got) < len("HTTP/1.1 200") {
						t.Fatalf("no response before the close: %q", got)
					}
				})
			}
		})
	}
}

// TestTLSConfigNotChanged: the admin server serves HTTPS with a copy of
// the config it is given. net/http adds its protocols to the config it
// serves, and recipesd hands the same config to its MQTT listener, whose
// handshakes read it meanwhile.
func TestTLSConfigNotChanged(t *testing.T) {
	cert, _ := testcert.New(t)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s := MustStart(t, &fakeStore{}, admin.Options{TLSConfig: cfg})
	conn, err := tls.Dial("tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	proto := conn.ConnectionState().NegotiatedProtocol
	_ = conn.Close()
	if proto != "h2" {
		t.Errorf("negotiated %q, want h2: the server should still offer HTTP/2", proto)
	}
	if cfg.NextProtos != nil {
		t.Fatalf("the given TLS config was changed: NextProtos %q", cfg.NextProtos)
	}
}
