package responder

import (
	"bytes"
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/recipes"
)

// ReplyTo is what of a request, besides the document it asks for, shapes
// the reply a device receives: its Response Topic, the Correlation Data
// echoed back (only its length counts), the QoS, and the Maximum Packet
// Size the device declared.
type ReplyTo struct {
	ResponseTopic  string
	CorrelationLen int  // 0 to MaxCorrelationData bytes
	QoS            byte // the request's; QoS 2 is answered at QoS 1

	// MaxPacketSize is the device's Maximum Packet Size; 0 measures the
	// reply against this server's own (Options.MaxPacketSize, the limit
	// it advertises in CONNACK).
	MaxPacketSize uint32
}

// UserProperty is one MQTT 5 User Property of a reply.
type UserProperty struct {
	Key, Value string
}

// ReplyPreview is the 200 reply a device receives for a document, as it
// is on the wire: built by the code that answers devices, so it changes
// when their replies change.
type ReplyPreview struct {
	Payload       []byte // the exact bytes of the PUBLISH payload
	ContentType   string
	PayloadFormat byte
	MessageExpiry uint32 // seconds, as the reply leaves the server
	User          []UserProperty
	QoS           byte

	// PacketSize is the size of the whole PUBLISH packet: fixed header,
	// topic, packet identifier, properties and payload.
	PacketSize int
	// MaxPacketSize is the limit the reply was measured against, and
	// Refused whether a device with that limit is answered 413 instead,
	// by the rule every reply passes (see [Responder.send]).
	MaxPacketSize uint32
	Refused       bool
}

// PreviewReply returns the reply a device receives for doc, asked as to
// says. It sends nothing and needs no running server.
func (r *Responder) PreviewReply(doc recipes.Document, to ReplyTo) (ReplyPreview, error) {
	if to.CorrelationLen < 0 || to.CorrelationLen > MaxCorrelationData {
		return ReplyPreview{}, recipes.Errorf(recipes.EINVALID, "correlation data of %d bytes: must be 0 to %d", to.CorrelationLen, MaxCorrelationData)
	}
	// A Response Topic a device could not use gets no reply to preview.
	id, _, _ := strings.Cut(strings.TrimPrefix(to.ResponseTopic, devicePrefix), "/")
	if msg := checkResponseTopic(id, to.ResponseTopic); msg != "" || !strings.HasPrefix(to.ResponseTopic, devicePrefix) {
		return ReplyPreview{}, recipes.Errorf(recipes.EINVALID, "response topic %q: %s", to.ResponseTopic,
			cmp.Or(msg, "not under devices/<device id>/"))
	}
	req := &request{responseTopic: to.ResponseTopic, qos: min(to.QoS, 1), language: doc.Language}
	if to.CorrelationLen > 0 {
		req.correlation = make([]byte, to.CorrelationLen)
	}
	now := time.Now().Unix()
	pk := r.replyPacket(req, StatusOK, encodeDocument(doc), now)
	size, err := wireSize(*pk, now)
	if err != nil {
		return ReplyPreview{}, fmt.Errorf("responder: encode reply preview: %w", err)
	}
	p := ReplyPreview{
		Payload:       pk.Payload,
		ContentType:   pk.Properties.ContentType,
		PayloadFormat: pk.Properties.PayloadFormat,
		MessageExpiry: expiryAt(pk, now),
		QoS:           pk.FixedHeader.Qos,
		PacketSize:    size,
		MaxPacketSize: cmp.Or(to.MaxPacketSize, r.opts.MaxPacketSize),
	}
	for _, u := range pk.Properties.User {
		p.User = append(p.User, UserProperty{Key: u.Key, Value: u.Val})
	}
	// The same comparison send makes before it writes a reply (packetSize
	// is exact, so it is also size > MaxPacketSize).
	p.Refused = packetSize(pk) > int(p.MaxPacketSize)
	return p, nil
}

// wireSize encodes pk as mochi's Client.WritePacket does for an MQTT 5
// device and returns the number of bytes written.
func wireSize(pk packets.Packet, now int64) (int, error) {
	pk.ProtocolVersion = 5
	pk.Properties.MessageExpiryInterval = expiryAt(&pk, now)
	pk.Mods.AllowResponseInfo = true // set for every packet but CONNACK
	if pk.FixedHeader.Qos > 0 {
		pk.PacketID = 1 // the outbox gives it one; every id is two bytes
	}
	var buf bytes.Buffer
	if err := pk.PublishEncode(&buf); err != nil {
		return 0, err
	}
	return buf.Len(), nil
}

// expiryAt is the Message Expiry Interval pk carries when written at now.
func expiryAt(pk *packets.Packet, now int64) uint32 {
	if pk.Expiry <= 0 {
		return 0
	}
	return uint32(max(pk.Expiry-now, 1))
}
