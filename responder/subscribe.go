package responder

import (
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/responder/session"
)

// A device's subscriptions live in its outbox (outbox.go) and nowhere
// else. Nothing reaches a device through mochi's routing, so subscriptions
// in mochi's topic index would be dead weight: two maps and two index
// nodes, about 2.4 KB for every idle device. Worse, they would let
// whatever mochi routes, another device's will for one, reach a device
// past the outbox. So deviceConn hands SUBSCRIBE and UNSUBSCRIBE of an
// established session to subscribe, never to mochi, and subscribe answers
// them as mochi's processSubscribe and processUnsubscribe would.

// subscribe answers pkt, a whole SUBSCRIBE or UNSUBSCRIBE that passed the
// packet checks, on the connection's goroutine. An error ends the
// connection.
func (r *Responder) subscribe(dc *deviceConn, pkt []byte) error {
	cl := dc.client
	pk := packets.Packet{ProtocolVersion: cl.Properties.ProtocolVersion}
	if err := pk.FixedHeader.Decode(pkt[0]); err != nil {
		return err
	}
	body := pkt[1:]
	for body[0]&0x80 != 0 { // the remaining length
		body = body[1:]
	}
	body = body[1:]

	decode, validate := pk.SubscribeDecode, pk.SubscribeValidate
	if pk.FixedHeader.Type == packets.Unsubscribe {
		decode, validate = pk.UnsubscribeDecode, pk.UnsubscribeValidate
	}
	if err := decode(body); err != nil {
		return err
	}
	if code := validate(); code != packets.CodeSuccess {
		_ = r.server.DisconnectClient(cl, code)
		return code
	}
	ack := r.ack(cl, pk)
	if err := cl.WritePacket(ack); err != nil {
		return err
	}
	// mochi renews the keep-alive deadline before each packet it reads;
	// this one it never saw. Same rule as mochi's refreshDeadline.
	var deadline time.Time
	if ka := cl.State.Keepalive; ka > 0 {
		deadline = time.Now().Add(time.Duration(ka+ka/2) * time.Second) // [MQTT-3.1.2-22]
	}
	_ = dc.SetDeadline(deadline)
	return nil
}

// ack applies the filters of pk, a SUBSCRIBE or UNSUBSCRIBE, to the
// device's subscriptions and returns the SUBACK or UNSUBACK with a reason
// code for each.
func (r *Responder) ack(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	code := packetIDCode(cl, pk)
	d := r.devices.Get(cl.ID)
	subscribe := pk.FixedHeader.Type == packets.Subscribe
	codes := make([]byte, len(pk.Filters))
	for i, sub := range pk.Filters {
		switch {
		case code != packets.CodeSuccess:
			codes[i] = code.Code
		case subscribe:
			codes[i] = r.subscribeOne(cl.ID, d, sub)
		case d != nil && d.Unsubscribe(sub.Filter):
			codes[i] = packets.CodeSuccess.Code
		default:
			codes[i] = packets.CodeNoSubscriptionExisted.Code
		}
	}
	typ := byte(packets.Unsuback)
	if subscribe {
		typ = packets.Suback
	}
	return ackPacket(typ, pk, code, codes)
}

// subscribeOne records sub if device id may have it, d being its session
// (nil if it has none), and returns the reason code for the SUBACK.
func (r *Responder) subscribeOne(id string, d *session.Device, sub packets.Subscription) byte {
	switch {
	case !mqtt.IsValidFilter(sub.Filter, false):
		return packets.ErrTopicFilterInvalid.Code
	case sub.NoLocal && mqtt.IsSharedFilter(sub.Filter):
		return packets.ErrProtocolViolationInvalidSharedNoLocal.Code // [MQTT-3.8.3-4]
	case !underDevice(sub.Filter, id): // the ACL of OnACLCheck
		return packets.ErrNotAuthorized.Code
	}
	if d != nil {
		// The outbox sends at QoS 1 at most.
		// The filter would otherwise keep the whole packet alive.
		d.Subscribe(session.Subscription{Filter: strings.Clone(sub.Filter), QoS: min(sub.Qos, 1), ID: sub.Identifier})
	}
	return min(sub.Qos, r.server.Options.Capabilities.MaximumQos) // [MQTT-3.2.2-9]
}

// packetIDCode is 0x91 for a packet identifier mochi holds in flight, as
// mochi's own processSubscribe answers, else success.
func packetIDCode(cl *mqtt.Client, pk packets.Packet) packets.Code {
	if _, ok := cl.State.Inflight.Get(pk.PacketID); ok {
		return packets.ErrPacketIdentifierInUse
	}
	return packets.CodeSuccess
}

func ackPacket(typ byte, pk packets.Packet, code packets.Code, codes []byte) packets.Packet {
	out := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: typ},
		PacketID:    pk.PacketID,
		ReasonCodes: codes,
		Properties:  packets.Properties{User: pk.Properties.User},
	}
	if code.Code >= packets.ErrUnspecifiedError.Code {
		out.Properties.ReasonString = code.Reason
	}
	return out
}
