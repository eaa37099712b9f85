package responder

import (
	"context"
	"fmt"
	"sync"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/time/rate"
)

// Draining. A server that is to stop without dropping its devices on the
// floor first stops accepting connections, then sends its devices, a
// bounded number per second, to another server: DISCONNECT 0x9C (use
// another server) with a Server Reference (MQTT 5 §4.11, §3.14.2.2.5).
// Until its turn a device is served as usual; at its turn its new
// requests are no longer acknowledged (it re-sends them to the server it
// reaches next), and it is disconnected once those it was acknowledged
// are answered and written (waitAnswered, as for any session the server
// ends).

// DefaultDrainRate is how many devices per second [Responder.Drain]
// sends away unless told otherwise: enough to empty a node of 100,000
// devices in under four minutes, few enough that the nodes they move to
// can authenticate them as they come.
const DefaultDrainRate = 500

// DrainOptions tunes [Responder.Drain].
type DrainOptions struct {
	// Rate is how many devices per second are sent away; default
	// [DefaultDrainRate].
	Rate float64

	// Refer returns the address (host:port) of the server the next device
	// is to use, called when its turn comes so that it can follow the
	// load; "" when there is none: the device then gets DISCONNECT 0x8B
	// (server shutting down) without a reference. Nil refers nowhere.
	Refer func(ctx context.Context) string
}

// Drain stops accepting connections and sends every connected device
// away at o.Rate, each once the requests it was acknowledged are
// answered, and returns when none is left or ctx ends (then with an
// error saying how many were not sent away). Devices of MQTT before 5
// cannot be told why: their connection is just closed. Close the
// responder afterwards as usual; Drain may be called once.
func (r *Responder) Drain(ctx context.Context, o DrainOptions) error {
	r.gate.RLock()
	srv, closing := r.server, r.closing
	r.gate.RUnlock()
	if srv == nil || closing {
		return nil
	}
	r.stopAccepting()
	perSecond := o.Rate
	if perSecond <= 0 {
		perSecond = DefaultDrainRate
	}
	// Two limits at the rate, with bursts of one so that it holds from
	// the first device on: one on the devices whose turn comes, one on
	// the DISCONNECTs, which would otherwise bunch up behind devices
	// whose last answers take a while.
	turns := rate.NewLimiter(rate.Limit(perSecond), 1)
	disconnects := rate.NewLimiter(rate.Limit(perSecond), 1)
	r.log.Info("draining: sending devices to other servers", "devices", r.stats.connected.Load(), "per_second", perSecond)

	var wg sync.WaitGroup
	defer wg.Wait()
	sent := map[*mqtt.Client]bool{}
	for {
		// Again until none is left: a device whose CONNECT was under way
		// when accepting stopped joins the list after the first pass.
		var todo []*mqtt.Client
		for _, cl := range srv.Clients.GetAll() {
			if !cl.Net.Inline && !cl.Closed() && !sent[cl] {
				todo = append(todo, cl)
			}
		}
		if len(todo) == 0 {
			break
		}
		for i, cl := range todo {
			if err := turns.Wait(ctx); err != nil {
				return fmt.Errorf("responder: drain: %d devices not sent away: %w", len(todo)-i, err)
			}
			sent[cl] = true
			wg.Go(func() { r.sendAway(ctx, cl, disconnects, o.Refer) })
		}
	}
	r.log.Info("drained: every device was sent away", "devices", len(sent))
	return nil
}

// sendAway ends cl's session, once its accepted requests are answered
// and lim allows, with DISCONNECT 0x9C and a Server Reference from refer, or 0x8B if
// refer has none.
func (r *Responder) sendAway(ctx context.Context, cl *mqtt.Client, lim *rate.Limiter, refer func(context.Context) string) {
	if d := r.devices.Get(cl.ID); d != nil && d.Client() == cl && d.End() {
		r.waitAnswered(d, cl)
	}
	// Past ctx, the device is closed at once, like Close would.
	_ = lim.Wait(ctx)
	ref := ""
	if refer != nil {
		ref = refer(ctx)
	}
	code := packets.ErrServerShuttingDown
	if ref != "" {
		code = packets.ErrUseAnotherServer
	}
	// mochi's DisconnectClient cannot carry a Server Reference: the same
	// two steps, with it. A v3.1.1 server sends no DISCONNECT at all.
	if cl.Properties.ProtocolVersion >= 5 {
		_ = cl.WritePacket(packets.Packet{
			FixedHeader: packets.FixedHeader{Type: packets.Disconnect},
			ReasonCode:  code.Code,
			Properties:  packets.Properties{ReasonString: code.Reason, ServerReference: ref},
		})
	}
	cl.Stop(code)
	r.stats.drainDisconnects.Add(1)
}
