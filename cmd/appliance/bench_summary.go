package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/recipesd/recipesd/internal/fleet"
)

// printSummary writes a summary for people.
func printSummary(w io.Writer, s *fleet.Summary) {
	fmt.Fprintf(w, "fleet      %d devices (%d active) on %s, %d process(es), measured %.1fs\n",
		s.Devices, s.Active, strings.Join(s.Servers, ", "), s.Processes, s.WindowS)
	c := s.Connect
	fmt.Fprintf(w, "connect    %d/%d connected, all in %.2fs (%.0f/s); CONNACK %s\n",
		c.Connected, c.Attempted, c.AllConnectedS, c.PerSecond, lat(c.Latency, false))
	if len(c.Refused) > 0 {
		fmt.Fprintf(w, "           refused (CONNACK): %s\n", counts(c.Refused))
	}
	if len(c.Failed) > 0 {
		fmt.Fprintf(w, "           failed (no CONNACK): %s\n", counts(c.Failed))
	}
	r := s.Requests
	fmt.Fprintf(w, "requests   %d sent, %d answered, %.0f round trips/s; latency %s\n",
		r.Sent, r.Answered, r.PerSecond, lat(r.Latency, true))
	if len(r.Statuses) > 0 {
		fmt.Fprintf(w, "           statuses: %s\n", counts(r.Statuses))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Kinds)) {
		fmt.Fprintf(w, "           %-12s %d sent: %s\n", k, r.Kinds[k].Sent, counts(r.Kinds[k].Statuses))
	}
	if r.Skipped > 0 {
		fmt.Fprintf(w, "           skipped (the device had -inflight requests unanswered): %d\n", r.Skipped)
	}
	if len(r.Puback) > 0 {
		fmt.Fprintf(w, "           refused (PUBACK): %s\n", counts(r.Puback))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "           not sent: %s\n", counts(r.Errors))
	}
	e := r.Exactly
	fmt.Fprintf(w, "replies    of %d requests: %d missing, %d duplicate, %d stray, %d late\n", r.SentAll, e.Missing, e.Duplicate, e.Stray, e.Late)
	d := s.Disconnects
	server := "none"
	if len(d.Server) > 0 {
		server = counts(d.Server)
	}
	fmt.Fprintf(w, "ended      by the server (DISCONNECT): %s; dropped without one: %d\n", server, d.Dropped)
	if cm := s.Commands; cm.Received > 0 {
		fmt.Fprintf(w, "commands   %d received, %d answered\n", cm.Received, cm.Answered)
	}
	g := s.Generator
	fmt.Fprintf(w, "generator  RSS %.1f MB (%.1f KB a device connected), Go heap %.1f MB, stacks %.1f MB, %d goroutines\n",
		mb(g.RSSBytes), float64(g.BytesPerDevice)/1024, mb(g.GoHeapBytes), mb(g.GoStackBytes), g.Goroutines)
}

func lat(l fleet.Latency, p999 bool) string {
	s := fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", l.P50, l.P99)
	if p999 {
		s += fmt.Sprintf(", p999 %.2f ms", l.P999)
	}
	return s + fmt.Sprintf(", max %.2f ms", l.Max)
}

func counts[V int | uint64](m map[string]V) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
