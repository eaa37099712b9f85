package edge

import "strings"

// Property identifiers and their value types (MQTT 5.0 §2.2.2.2).
const (
	propPayloadFormat     = 0x01
	propMessageExpiry     = 0x02
	propContentType       = 0x03
	propResponseTopic     = 0x08
	propCorrelationData   = 0x09
	propSubscriptionID    = 0x0B
	propSessionExpiry     = 0x11
	propAuthMethod        = 0x15
	propAuthData          = 0x16
	propRequestProblem    = 0x17
	propWillDelay         = 0x18
	propRequestResponse   = 0x19
	propReasonString      = 0x1F
	propReceiveMaximum    = 0x21
	propTopicAliasMax     = 0x22
	propTopicAlias        = 0x23
	propUser              = 0x26
	propMaximumPacketSize = 0x27
)

type propSet []byte

var (
	connectProps = propSet{propSessionExpiry, propReceiveMaximum, propMaximumPacketSize, propTopicAliasMax,
		propRequestResponse, propRequestProblem, propUser, propAuthMethod, propAuthData}
	willProps = propSet{propWillDelay, propPayloadFormat, propMessageExpiry, propContentType,
		propResponseTopic, propCorrelationData, propUser}
	publishProps = propSet{propPayloadFormat, propMessageExpiry, propTopicAlias, propResponseTopic,
		propCorrelationData, propUser, propContentType}
	ackProps         = propSet{propReasonString, propUser}
	subscribeProps   = propSet{propSubscriptionID, propUser}
	unsubscribeProps = propSet{propUser}
	disconnectProps  = propSet{propSessionExpiry, propReasonString, propUser}
)

func (s propSet) allows(id byte) bool { return strings.IndexByte(string(s), id) >= 0 }

// props reads a property list: its length, then properties allowed in this
// packet, each at most once except User Property, with values in range.
func (r *reader) props(allowed propSet) {
	n := r.varint()
	list := r.take(n, "properties")
	if r.err != nil {
		return
	}
	p := &reader{b: list}
	var seen [64]bool
	for p.err == nil && len(p.b) > 0 {
		id := p.varint()
		if p.err != nil {
			break
		}
		if id >= len(seen) || !allowed.allows(byte(id)) {
			p.fail(protocolError("property 0x%02x not allowed here", id))
			break
		}
		if seen[id] && id != propUser {
			p.fail(protocolError("property 0x%02x appears twice", id))
			break
		}
		seen[id] = true
		p.propValue(byte(id))
	}
	if p.err == nil && seen[propAuthData] && !seen[propAuthMethod] {
		p.fail(protocolError("authentication data without a method"))
	}
	if p.err != nil {
		r.fail(p.err)
	}
}

func (r *reader) propValue(id byte) {
	switch id {
	case propPayloadFormat, propRequestProblem, propRequestResponse:
		if v := r.u8(); r.err == nil && v > 1 {
			r.fail(protocolError("property 0x%02x must be 0 or 1", id))
		}
	case propReceiveMaximum:
		if v := r.u16(); r.err == nil && v == 0 {
			r.fail(protocolError("receive maximum 0"))
		}
	case propTopicAliasMax:
		r.u16()
	case propTopicAlias:
		r.u16()
		// CONNACK grants no topic aliases; they would also hide the
		// request topic from the ACL check.
		r.fail(&FrameError{Code: codeTopicAlias, Reason: "topic aliases are not supported"})
	case propMessageExpiry, propSessionExpiry, propWillDelay:
		r.u32()
	case propMaximumPacketSize:
		if v := r.u32(); r.err == nil && v == 0 {
			r.fail(protocolError("maximum packet size 0"))
		}
	case propSubscriptionID:
		if v := r.varint(); r.err == nil && v == 0 {
			r.fail(protocolError("subscription identifier 0"))
		}
	case propContentType, propResponseTopic, propAuthMethod, propReasonString:
		// A Response Topic with wildcards is well-formed here and refused
		// by the publish hook with PUBACK 0x87, as PROTOCOL.md §2 says.
		r.str()
	case propCorrelationData, propAuthData:
		r.bin()
	case propUser:
		r.str()
		r.str()
	}
}
