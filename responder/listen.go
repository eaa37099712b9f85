package responder

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/responder/edge"
)

// How the responder sets up mochi and its listeners.

// newListener opens (unless given ln) and sets up one MQTT listener.
func (r *Responder) newListener(ctx context.Context, id string, ln net.Listener, addr string, tc *tls.Config) (*edge.Listener, error) {
	if ln == nil {
		var err error
		ln, err = (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("responder: listen on %s: %w", addr, err)
		}
	}
	cfg := &edge.Config{
		Limits: edge.Limits{
			MaxPacket: int(r.opts.MaxPacketSize),
			// Until it has authenticated, a peer gets little: a CONNECT
			// holds a client ID, credentials and at most a small will.
			MaxConnect: min(int(r.opts.MaxPacketSize), maxConnectSize),
			NoCheck:    r.opts.noPacketChecks,
		},
		WriteTimeout: r.opts.WriteTimeout,
		Linger:       closeLinger,
		WriteFailed:  func() { r.stats.writeFailures.Add(1) },
	}
	return edge.NewListener(edge.ListenerConfig{
		ID:          id,
		Listener:    ln,
		TLS:         tc,
		FirstPacket: r.opts.FirstPacketTimeout,
		Wrap:        func(c net.Conn) edge.Guarded { return newDeviceConn(c, cfg, r) },
		Recovered:   func(g edge.Guarded, v any) { r.recovered(g.(*deviceConn), v) },
		Throttle:    r.throttle,
		Log:         r.log,
		Disconnect:  r.disconnectListener,
	}), nil
}

// maxConnectSize bounds a CONNECT packet.
const maxConnectSize = 8 << 10

// closeLinger is how long a closed connection drains what its peer still
// sends, so that it ends with a FIN rather than a reset (edge.Conn.Close).
const closeLinger = time.Second

func (r *Responder) mochiOptions() *mqtt.Options {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.Compatibilities.NoInheritedPropertiesOnAck = true
	caps.MaximumPacketSize = r.opts.MaxPacketSize
	caps.MaximumClients = int64(r.opts.MaxClients)
	caps.ReceiveMaximum = r.opts.ReceiveMaximum
	// Devices speak MQTT 5 (PROTOCOL.md §1); the edge guard refuses older
	// CONNECTs before mochi sees them.
	caps.MinimumProtocolVersion = 5
	caps.MaximumSessionExpiryInterval = uint32(r.opts.MaxSessionExpiry / time.Second)
	// Nothing reaches a device through mochi's routing (see the package
	// comment and subscribe.go), so its per-client write queue stays
	// empty; the default (8192 pointers) costs 64 KiB per connection.
	caps.MaximumClientWritesPending = 1
	// Topic aliases would hide the request topic from the ACL check, which
	// mochi runs before it resolves aliases.
	caps.TopicAliasMaximum = 0
	// A retained request would sit in the broker for ever.
	caps.RetainAvailable = 0
	return &mqtt.Options{
		Capabilities: caps,
		// deviceConn hands mochi whole packets from memory, so mochi's own
		// read buffer (2 KiB by default, per connection, idle or not) need
		// not even hold a fixed header: 16 bytes is bufio's minimum.
		ClientNetReadBufferSize: 16,
		InlineClient:            true,
		SysTopicResendInterval:  3600,
		Logger:                  slog.New(edge.NewMochiLog(r.opts.Logger.Handler())).With("component", "mochi"),
	}
}

// disconnectListener tells every session of one listener that the server
// is shutting down. It reads mochi's client map with a single lock
// (Clients.GetAll), unlike mochi's own Clients.GetByListener.
//
// The DISCONNECTs go out in parallel: one to a device whose connection is
// full waits for the write timeout, and must not hold up the others.
func (r *Responder) disconnectListener(id string) {
	var wg sync.WaitGroup
	for _, cl := range r.server.Clients.GetAll() {
		if cl.Net.Listener == id && !cl.Net.Inline && !cl.Closed() {
			wg.Go(func() { _ = r.server.DisconnectClient(cl, packets.ErrServerShuttingDown) })
		}
	}
	wg.Wait()
}
