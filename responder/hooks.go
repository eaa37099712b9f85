package responder

import (
	"bytes"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
	"github.com/recipesd/recipesd/responder/session"
)

// deviceHook is the responder's mochi hook: client ID checks and device
// authentication, the ACL of PROTOCOL.md §1, the Response Topic guard,
// and the session and PUBACK events that drive each device's outbox.
type deviceHook struct {
	mqtt.HookBase
	r *Responder
}

func (h *deviceHook) ID() string { return "recipesd-devices" }

func (h *deviceHook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mqtt.OnConnect,
		mqtt.OnConnectAuthenticate,
		mqtt.OnACLCheck,
		mqtt.OnSessionEstablished,
		mqtt.OnDisconnect,
		mqtt.OnClientExpired,
		mqtt.OnPacketRead,
		mqtt.OnPacketEncode,
		mqtt.OnPublish,
		mqtt.OnPublished,
	}, []byte{b})
}

// OnConnect refuses client IDs that cannot be a single topic level (0x85),
// authenticates the device (auth.go) and, with Options.Presence, claims
// its session cluster-wide (presence.go). Authentication happens here
// rather than in OnConnectAuthenticate because a store outage must be
// answered 0x88, not 0x86, and only this hook can choose the CONNACK.
func (h *deviceHook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	dc := connOf(cl)
	code := packets.ErrClientIdentifierNotValid
	if dc != nil {
		code = h.r.authenticate(dc, cl, pk)
	}
	// The secret is never needed again, but mochi keeps the CONNECT's
	// buffer, secret included, for as long as anything points into it:
	// wipe the secret, and give the ID and username their own memory so
	// the buffer can go. (authenticate's string copy of the secret is
	// garbage at once.)
	clear(pk.Connect.Password)
	cl.ID = strings.Clone(cl.ID) // before mochi files the client under it
	cl.Properties.Username = bytes.Clone(cl.Properties.Username)
	if code == packets.CodeSuccess && h.r.opts.Presence != nil {
		code = h.r.claim(dc, cl.ID) // presence.go
	}
	if code != packets.CodeSuccess {
		h.r.stats.authRefused.Add(1)
		h.r.log.Debug("connection refused", "client", pk.Connect.ClientIdentifier,
			"remote", cl.Net.Remote, "reason", code.Reason)
		_ = h.r.server.SendConnack(cl, code, false, nil)
		return code
	}
	h.r.capKeepalive(cl)
	return nil
}

// OnConnectAuthenticate admits exactly the connections OnConnect
// authenticated; mochi admits a client if any hook says yes, so this is
// the only hook that answers.
func (h *deviceHook) OnConnectAuthenticate(cl *mqtt.Client, _ packets.Packet) bool {
	dc := connOf(cl)
	return dc != nil && dc.authed
}

// OnACLCheck keeps each device inside its own topics: it may publish
// requests under recipes/ and anything under devices/<id>/, and subscribe
// only under devices/<id>/. mochi answers a refused publish itself (PUBACK
// or PUBREC 0x87 by QoS); it is counted and struck here.
func (h *deviceHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	if write && strings.HasPrefix(topic, requestPrefix) {
		return true
	}
	ok := underDevice(topic, cl.ID)
	if !ok && write && !cl.Net.Inline {
		h.r.stats.refused.Add(1)
		h.r.refused(cl.ID, topic, "topic not allowed")
	}
	return ok
}

// OnPublish refuses requests whose Response Topic the sender does not own
// (PUBACK or PUBREC 0x87; dropped at QoS 0) before mochi acknowledges
// them, keeps publishes under devices/ away from mochi's routing (the
// server is the only peer there), and admits the rest (admit.go).
func (h *deviceHook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	if strings.HasPrefix(pk.TopicName, devicePrefix) {
		if pk.TopicName == rpcResponseTopic(cl.ID) {
			h.r.rpcAnswer(cl, pk)
		}
		return pk, packets.CodeSuccessIgnore
	}
	if rt := pk.Properties.ResponseTopic; rt != "" {
		if why := checkResponseTopic(cl.ID, rt); why != "" {
			h.r.refusePublish(cl, pk, "response topic "+why)
			return pk, packets.ErrRejectPacket
		}
	}
	dc := connOf(cl)
	if dc == nil {
		return pk, nil
	}
	return pk, h.r.admit(cl, dc, pk)
}

// OnPublished runs once the request handler is done with the publish.
func (h *deviceHook) OnPublished(cl *mqtt.Client, _ packets.Packet) {
	h.r.handled(connOf(cl))
}

// OnSessionEstablished binds the connection to the device's outbox once
// the CONNACK is out, so resent replies follow it.
func (h *deviceHook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	dc := connOf(cl)
	if cl.Net.Inline || dc == nil {
		return
	}
	dc.since = time.Now()
	created := false
	d := h.r.devices.Session(cl.ID, func() *session.Device {
		created = true
		return session.NewDevice(cl.ID, &h.r.sessions)
	})
	// The model comes from the registry, never from the request.
	d.Attach(cl, pk.Connect.Clean || created, dc.identity)
	dc.established = true
	h.r.stats.connected.Add(1)
	if !dc.anonymous {
		h.r.seen.Add(cl.ID, time.Now())
		if h.r.revoked.since(cl.ID, dc.revokedSeq) {
			// Revoked while it was being admitted on an older answer.
			h.r.log.Info("device session ended: revoked while connecting", "device", cl.ID)
			go func() { _ = h.r.server.DisconnectClient(cl, packets.ErrAdministrativeAction) }()
			return
		}
	}
	h.r.staleSession(cl, dc)
}

func (h *deviceHook) OnDisconnect(cl *mqtt.Client, _ error, expire bool) {
	if dc := connOf(cl); dc != nil {
		h.r.handled(dc) // its PUBACK could not be written
		h.r.sessionEnded(cl, dc, expire)
	}
}

// sessionEnded undoes OnSessionEstablished, once, when the connection
// ends (or panicked; see recovered).
func (r *Responder) sessionEnded(cl *mqtt.Client, dc *deviceConn, expire bool) {
	if !dc.established {
		return
	}
	dc.established = false
	r.stats.connected.Add(-1)
	if !dc.anonymous {
		r.seen.Add(cl.ID, time.Now())
	}
	d := r.devices.Get(cl.ID)
	if d == nil {
		return
	}
	d.Detach(cl)
	// A device that reconnects gets its unacked commands again, but the
	// callers learn now that the answer may never come.
	if d.Client() == nil {
		r.calls.failDevice(cl.ID, recipes.ErrCallGone)
	}
	if expire {
		// A session that ends because the device connected again must not
		// take the new session's outbox with it. The new connection marks
		// the old one taken over before its session looks the outbox up
		// (OnSessionEstablished, under the registry's lock), so asking
		// under that lock leaves no window between the check and the
		// removal.
		r.devices.RemoveUnless(cl.ID, d, cl.IsTakenOver)
	}
}

func (h *deviceHook) OnClientExpired(cl *mqtt.Client) {
	if d := h.r.devices.Get(cl.ID); d != nil {
		h.r.devices.Remove(cl.ID, d)
	}
}

// OnPacketRead sees the device's PUBACKs for the replies our outbox sent
// (mochi ignores them because they are not in its inflight store), and
// refuses publishes to topics reserved for the server ($SYS, $share),
// which mochi drops without the acknowledgement QoS 1 and 2 require.
func (h *deviceHook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Puback:
		if d := h.r.devices.Get(cl.ID); d != nil {
			d.Acked(pk.PacketID, time.Now())
		}
	case packets.Publish:
		if strings.HasPrefix(pk.TopicName, "$") && !cl.Net.Inline && !mqtt.IsValidFilter(pk.TopicName, true) {
			h.r.refusePublish(cl, pk, "topic reserved for the server")
		}
	}
	return pk, nil
}

// OnPacketEncode keeps the reply's user properties and completes the CONNACK: Response Information when asked
// for, and the limits mochi does not advertise itself.
func (h *deviceHook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Publish {
		// A device that sets Request Problem Information to 0 makes mochi
		// strip user properties from every packet, but MQTT-3.1.2-29 only
		// forbids them outside PUBLISH, CONNACK and DISCONNECT, and the
		// reply's "status" property is part of our contract.
		pk.Mods.DisallowProblemInfo = false
		return pk
	}
	if pk.FixedHeader.Type != packets.Connack || pk.ReasonCode >= packets.ErrUnspecifiedError.Code {
		return pk
	}
	// mochi has filed the session (and taken over this node's older one):
	// the device's next claim here may go ahead.
	if dc := connOf(cl); dc != nil {
		h.r.claimDone(dc)
	}
	if cl.Properties.Props.RequestResponseInfo == 1 {
		pk.Properties.ResponseInfo = DeviceTopicPrefix(cl.ID)
	}
	pk.Properties.MaximumPacketSize = h.r.opts.MaxPacketSize
	pk.Properties.RetainAvailable = 0
	pk.Properties.RetainAvailableFlag = true
	return pk
}
