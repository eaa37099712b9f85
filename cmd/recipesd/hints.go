package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/recipesd/recipesd/internal/secretsfile"
	"github.com/recipesd/recipesd/responder"
	"github.com/recipesd/recipesd/seed"
)

// What a start tells its operator, besides what it did.

// plainHTTPExposed reports whether staff would sign in over plain HTTP
// from other machines: no TLS, no TLS proxy in front (-secure-cookies),
// and addr, the bound address, is not a loopback one.
func plainHTTPExposed(addr string, tls, secureCookies bool) bool {
	if tls || secureCookies {
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback()
}

// tryCommand is the mosquitto_rr line that asks the server for its
// categories as the demo device, printed at start so a newcomer can try it
// at once. On the start that created the demo device, secretsFile holds its
// secret, and the line reads it from there: the log never holds it.
func tryCommand(addr string, anonymous bool, secretsFile string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "::" || host == "0.0.0.0" || host == "[::]" {
		host = "127.0.0.1"
	}
	creds := ""
	switch {
	case secretsFile != "":
		creds = " -u " + seed.DemoDeviceID + " -P " + secretsfile.ShellValue(secretsFile, keyDemoDeviceSecret)
	case !anonymous:
		creds = " -u " + seed.DemoDeviceID + " -P '<its secret>'"
	}
	return fmt.Sprintf("mosquitto_rr -V 5 -h %s -p %s -i %s%s -q 1 -t %s -e %sreplies -m '' -W 5",
		host, port, seed.DemoDeviceID, creds, responder.CategoriesTopic, responder.DeviceTopicPrefix(seed.DemoDeviceID))
}
