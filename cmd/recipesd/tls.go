package main

import (
	"crypto/tls"
	"fmt"
)

// loadTLS returns the server's TLS configuration, or nil when no
// certificate is configured. The same certificate serves MQTT over TLS and
// the admin server's HTTPS; a renewed certificate takes a restart.
func loadTLS(c Config) (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate %s and key %s: %w", c.TLSCert, c.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}
