package fleet_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/google/go-cmp/cmp"

	"github.com/recipesd/recipesd/internal/fleet"
)

// misbehaving is an MQTT 5 server, written over paho's packet codec, that
// answers requests wrongly on purpose and counts what it did, so that the
// bench's accounting can be checked against it exactly.
type misbehaving struct {
	ln net.Listener
	wg sync.WaitGroup

	// policy says what to do with the nth request (from 0) the server
	// received.
	policy func(n int64) action
	// byID says what to do with a device right after its CONNECT.
	byID map[string]string // "refuse" (CONNACK 0x89), "disconnect" (0x8E after the SUBACK), "drop" (close after the SUBACK)

	requests                            atomic.Int64
	dropped, duplicated, delayed, stray atomic.Int64
}

type action int

const (
	answer action = iota
	drop
	duplicate
	delay
	strayToo // answer, and send a reply with correlation data nobody sent
)

func startMisbehaving(t *testing.T, policy func(int64) action, byID map[string]string, delayBy time.Duration) *misbehaving {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &misbehaving{ln: ln, policy: policy, byID: byID}
	s.wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Go(func() { s.serve(nc, delayBy) })
		}
	})
	t.Cleanup(func() { _ = ln.Close(); s.wg.Wait() })
	return s
}

func (s *misbehaving) serve(nc net.Conn, delayBy time.Duration) {
	defer func() { _ = nc.Close() }()
	var wmu sync.Mutex
	var timers sync.WaitGroup
	defer timers.Wait()
	write := func(cp *packets.ControlPacket) {
		wmu.Lock()
		defer wmu.Unlock()
		_, _ = cp.WriteTo(nc)
	}
	pk, err := packets.ReadPacket(nc)
	if err != nil {
		return
	}
	id := pk.Content.(*packets.Connect).ClientID
	ca := packets.NewControlPacket(packets.CONNACK)
	if s.byID[id] == "refuse" {
		ca.Content.(*packets.Connack).ReasonCode = 0x89
		write(ca)
		return
	}
	write(ca)
	var pid atomic.Uint32
	for {
		pk, err := packets.ReadPacket(nc)
		if err != nil {
			return
		}
		switch p := pk.Content.(type) {
		case *packets.Subscribe:
			sa := packets.NewControlPacket(packets.SUBACK)
			sa.Content.(*packets.Suback).PacketID = p.PacketID
			for _, so := range p.Subscriptions {
				sa.Content.(*packets.Suback).Reasons = append(sa.Content.(*packets.Suback).Reasons, so.QoS)
			}
			write(sa)
			switch s.byID[id] {
			case "disconnect":
				d := packets.NewControlPacket(packets.DISCONNECT)
				d.Content.(*packets.Disconnect).ReasonCode = 0x8E
				write(d)
				return
			case "drop":
				return
			}
		case *packets.Publish:
			if p.QoS == 1 {
				ack := packets.NewControlPacket(packets.PUBACK)
				ack.Content.(*packets.Puback).PacketID = p.PacketID
				write(ack)
			}
			reply := func(corr []byte) {
				r := &packets.Publish{Topic: p.Properties.ResponseTopic, QoS: p.QoS, Payload: []byte(`{"status":200,"etag":"e1","data":{}}`),
					Properties: &packets.Properties{CorrelationData: corr, User: []packets.User{{Key: "status", Value: "200"}}}}
				if p.QoS == 1 {
					r.PacketID = uint16(pid.Add(1)%65535 + 1)
				}
				write(r.ToControlPacket())
			}
			switch s.policy(s.requests.Add(1) - 1) {
			case answer:
				reply(p.Properties.CorrelationData)
			case drop:
				s.dropped.Add(1)
			case duplicate:
				s.duplicated.Add(1)
				reply(p.Properties.CorrelationData)
				reply(p.Properties.CorrelationData)
			case delay:
				s.delayed.Add(1)
				timers.Add(1)
				time.AfterFunc(delayBy, func() { defer timers.Done(); reply(p.Properties.CorrelationData) })
			case strayToo:
				s.stray.Add(1)
				reply(p.Properties.CorrelationData)
				reply([]byte("not-a-request-of-this-run"))
			}
		}
	}
}

// TestRun_Accounting runs a fleet against a server that drops,
// duplicates and delays replies, sends stray ones, refuses a device,
// disconnects one and drops another's socket: the summary must count
// exactly what the server did, at QoS 0 and at QoS 1.
func TestRun_Accounting(t *testing.T) {
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("QoS%d", qos), func(t *testing.T) {
			const timeout = 300 * time.Millisecond
			// Early requests are delayed past the timeout (they arrive
			// long before the run ends); later ones are dropped,
			// duplicated or stray.
			policy := func(n int64) action {
				switch {
				case n < 40 && n%10 == 3:
					return delay
				case n%17 == 5:
					return drop
				case n%13 == 7:
					return duplicate
				case n%29 == 11:
					return strayToo
				}
				return answer
			}
			// Devices at even indices are idle (Active 0.5 makes the odd
			// ones active), so the ones the server ends have nothing owed.
			devs := make([]fleet.Device, 12)
			for i := range devs {
				devs[i] = fleet.Device{ID: fmt.Sprintf("dev-%02d", i), Secret: "s"}
			}
			byID := map[string]string{"dev-00": "refuse", "dev-02": "disconnect", "dev-04": "drop"}
			srv := startMisbehaving(t, policy, byID, 2*timeout)
			ts := &fleet.Targets{}
			if err := ts.Add(fleet.KindGet, "recipes/soups/tomato", nil, ""); err != nil {
				t.Fatal(err)
			}
			sum, err := fleet.Run(context.Background(), fleet.Options{
				Servers:  []string{srv.ln.Addr().String()},
				Devices:  devs,
				QoS:      qos,
				Active:   0.5,
				Rate:     20,
				Mix:      fleet.Mix{fleet.KindGet: 1},
				Targets:  ts,
				Warmup:   200 * time.Millisecond,
				Duration: 1500 * time.Millisecond,
				Timeout:  timeout,
			})
			if err != nil {
				t.Fatal(err)
			}
			if srv.delayed.Load() == 0 || srv.dropped.Load() == 0 || srv.duplicated.Load() == 0 || srv.stray.Load() == 0 {
				t.Fatalf("the server misbehaved too little to test anything: %d requests", srv.requests.Load())
			}
			want := fleet.ExactlyOnce{
				Missing:   uint64(srv.dropped.Load()),
				Duplicate: uint64(srv.duplicated.Load()),
				Stray:     uint64(srv.stray.Load()),
				Late:      uint64(srv.delayed.Load()),
			}
			if diff := cmp.Diff(want, sum.Requests.Exactly); diff != "" {
				t.Errorf("exactly-once accounting (-what the server did +what the bench counted):\n%s", diff)
			}
			if got, want := sum.Requests.SentAll, uint64(srv.requests.Load()); got != want {
				t.Errorf("sent_all %d, the server received %d", got, want)
			}
			if diff := cmp.Diff(map[string]int{"0x89": 1}, sum.Connect.Refused); diff != "" {
				t.Errorf("CONNACK refusals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(fleet.DisconnectSummary{Server: map[string]int{"0x8e": 1}, Dropped: 1}, sum.Disconnects); diff != "" {
				t.Errorf("disconnects (-want +got):\n%s", diff)
			}
			if sum.Connect.Connected != 11 || sum.Connect.Attempted != 12 || sum.Active != 6 {
				t.Errorf("connected %d of %d attempted, %d active; want 11 of 12, 6", sum.Connect.Connected, sum.Connect.Attempted, sum.Active)
			}
			// Every measured request answered is a 200: the server says
			// nothing else.
			if got := sum.Requests.Statuses["200"]; got != sum.Requests.Answered || got == 0 {
				t.Errorf("statuses %v, answered %d", sum.Requests.Statuses, sum.Requests.Answered)
			}
			if sum.Requests.Sent == 0 || sum.Requests.Sent >= sum.Requests.SentAll {
				t.Errorf("sent %d in the window of %d in all: the warm-up's must not be measured", sum.Requests.Sent, sum.Requests.SentAll)
			}
		})
	}
}

// TestRun_Errors: bad options are refused, each named.
func TestRun_Errors(t *testing.T) {
	_, err := fleet.Run(context.Background(), fleet.Options{Active: 2, QoS: 2, Sources: []string{"127.0.0.x"}})
	for _, want := range []string{"no server address", "no devices", "active share 2: must be between 0 and 1", "QoS 2: must be 0 or 1", `source address "127.0.0.x": not an IP address`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
	if errors.Unwrap(err) == nil {
		t.Errorf("error %v: not wrapped", err)
	}
}
