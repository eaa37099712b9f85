package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseServeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(Config) bool
		err  string // substring; empty means success
	}{
		{"OKDefaults", nil, nil, func(c Config) bool {
			// Loopback only until told otherwise.
			return c.MQTTAddr == "127.0.0.1:1883" && c.HTTPAddr == "127.0.0.1:8080" && c.MQTTTLSAddr == "127.0.0.1:8883" &&
				c.DataDir == "./data" && c.RedisURL == "" && c.Demo
		}, ""},
		{"OKEnv", nil, map[string]string{"RECIPESD_MQTT_ADDR": "127.0.0.1:1", "RECIPESD_REPLY_EXPIRY": "30s"}, func(c Config) bool {
			return c.MQTTAddr == "127.0.0.1:1" && c.ReplyExpiry == 30*time.Second
		}, ""},
		{"OKFlagBeatsEnv", []string{"-mqtt-addr", ":2"}, map[string]string{"RECIPESD_MQTT_ADDR": ":1"}, func(c Config) bool {
			return c.MQTTAddr == ":2"
		}, ""},
		{"OKNodeDefaults", nil, nil, func(c Config) bool {
			host, _ := os.Hostname()
			return c.NodeID == host && c.AdvertiseMQTT == "" && c.NodeHeartbeat == 2*time.Second && c.NodeDeadAfter == 10*time.Second
		}, ""},
		{"OKNodeEnv", nil, map[string]string{"RECIPESD_NODE_ID": "n7", "RECIPESD_ADVERTISE_MQTT": "n7.example:1883"}, func(c Config) bool {
			return c.NodeID == "n7" && c.AdvertiseMQTT == "n7.example:1883"
		}, ""},
		{"ErrNodeDeadAfter", []string{"-node-heartbeat", "5s"}, nil, nil, "-node-dead-after 10s: must be at least 3 × -node-heartbeat (15s)"},
		{"ErrNodeID", []string{"-node-id", ""}, nil, nil, "-node-id: must not be empty"},
		{"ErrEnvNotInteger", nil, map[string]string{"RECIPESD_WORKERS": "many"}, nil, `RECIPESD_WORKERS="many": not an integer`},
		{"ErrEnvNotDuration", nil, map[string]string{"RECIPESD_STORE_TIMEOUT": "5"}, nil, `RECIPESD_STORE_TIMEOUT="5": not a duration`},
		{"ErrEnvNotBool", nil, map[string]string{"RECIPESD_DEMO": "yes please"}, nil, `RECIPESD_DEMO="yes please": not a boolean`},
		{"ErrFlagType", []string{"-workers", "x"}, nil, nil, `invalid value "x" for flag -workers`},
		{"ErrUnknownFlag", []string{"-colour"}, nil, nil, "flag provided but not defined: -colour"},
		{"ErrWorkers", []string{"-workers", "0"}, nil, nil, "-workers 0: must be between 1 and 10000"},
		{"ErrLogFormat", []string{"-log-format", "xml"}, nil, nil, `-log-format "xml": must be text or json`},
		{"ErrStoreTimeout", []string{"-store-timeout", "1m"}, nil, nil, "-store-timeout 1m0s: must be between 10ms and 5s"},
		{"ErrPacketSize", []string{"-max-packet-size", "10"}, nil, nil, "-max-packet-size 10"},
		{"ErrNoDataDir", []string{"-data-dir", ""}, nil, nil, "-data-dir is required"},
		{"ErrArgument", []string{"extra"}, nil, nil, `unexpected argument "extra"`},
		{"ErrSecretFile", nil, map[string]string{"RECIPESD_REDIS_URL_FILE": "/no/such/file"}, nil, "RECIPESD_REDIS_URL_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseServeFlags(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.err == "" {
				if err != nil || !tt.want(c) {
					t.Fatalf("config %+v, err %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestRunExitCodes(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"help"}, exitOK, ""},
		{[]string{"serve", "-h"}, exitOK, "-mqtt-addr"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{[]string{"serve", "-workers", "-1"}, exitUsage, "-workers -1"},
		{[]string{"serve", "-data-dir", "/dev/null/x", "-mqtt-addr", "127.0.0.1:0", "-http-addr", "127.0.0.1:0"}, exitFailure, "data directory"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, func(string) string { return "" }, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errb.String(), tt.code, tt.stderr)
			}
		})
	}
}
