package responder

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The packet checks below run on every packet a device sends, before mochi
// decodes it: mochi v2.7.9 trusts lengths inside packets (a truncated MQTT 5
// SUBSCRIBE makes it index past the end and panic) and is lenient where MQTT
// 5 says "protocol error". They follow the MQTT 5.0 rules for packets a
// client sends; anything else is refused with a reason code, so a bad
// packet closes that one connection and mochi only ever sees packets that
// are well-formed.

// frameError is why a packet was refused: an MQTT 5 reason code and what
// was wrong, sent to the device as the DISCONNECT (or CONNACK) reason.
type frameError struct {
	code   byte
	reason string
	// connack, if set, is written before closing a connection whose CONNECT
	// was refused, for clients that cannot take a v5 CONNACK.
	connack []byte
}

func (e *frameError) Error() string {
	return fmt.Sprintf("responder: packet refused (reason code 0x%02x): %s", e.code, e.reason)
}

// Reason codes used when refusing packets.
const (
	codeMalformed        = 0x81
	codeProtocolError    = 0x82
	codeUnsupportedProto = 0x84
	codeTopicAlias       = 0x94
	codePacketTooLarge   = 0x95
	codeRetainNotSupp    = 0x9A
)

func malformed(format string, args ...any) *frameError {
	return &frameError{code: codeMalformed, reason: fmt.Sprintf(format, args...)}
}

func protocolError(format string, args ...any) *frameError {
	return &frameError{code: codeProtocolError, reason: fmt.Sprintf(format, args...)}
}

// MQTT control packet types.
const (
	typeConnect     = 1
	typePublish     = 3
	typePuback      = 4
	typePubrec      = 5
	typePubrel      = 6
	typePubcomp     = 7
	typeSubscribe   = 8
	typeUnsubscribe = 10
	typePingreq     = 12
	typeDisconnect  = 14
	typeAuth        = 15
)

// checkHeader checks a fixed header before the body is read: the packet
// type, its flags, and that CONNECT comes first and only once.
func checkHeader(h byte, remaining int, connected bool) *frameError {
	typ, flags := h>>4, h&0x0f
	if !connected {
		if typ != typeConnect {
			return protocolError("first packet must be CONNECT")
		}
		if flags != 0 {
			return malformed("CONNECT flags must be 0")
		}
		return nil
	}
	switch typ {
	case typeConnect:
		return protocolError("second CONNECT")
	case typePublish:
		qos := flags >> 1 & 3
		switch {
		case qos == 3:
			return malformed("PUBLISH QoS 3")
		case qos == 0 && flags&0x08 != 0:
			return malformed("PUBLISH DUP set at QoS 0")
		case flags&0x01 != 0:
			// CONNACK says Retain Available = 0 (MQTT-3.2.2-14).
			return &frameError{code: codeRetainNotSupp, reason: "retain is not supported"}
		}
		return nil
	case typePubrel, typeSubscribe, typeUnsubscribe:
		if flags != 0x02 {
			return malformed("reserved flags of packet type %d must be 0010", typ)
		}
		return nil
	case typePuback, typePubrec, typePubcomp, typeDisconnect:
		if flags != 0 {
			return malformed("reserved flags of packet type %d must be 0", typ)
		}
		return nil
	case typePingreq:
		if flags != 0 || remaining != 0 {
			return malformed("PINGREQ must be 2 bytes")
		}
		return nil
	case typeAuth:
		return protocolError("AUTH without an authentication method")
	}
	return protocolError("packet type %d may not be sent by a client", typ)
}

// checkPacket checks the body of a packet whose header passed checkHeader.
func checkPacket(h byte, body []byte) *frameError {
	r := &reader{b: body}
	switch h >> 4 {
	case typeConnect:
		return checkConnect(r)
	case typePublish:
		checkPublish(r, h>>1&3)
	case typePuback, typePubrec, typePubrel, typePubcomp:
		checkAck(r)
	case typeSubscribe:
		checkSubscribe(r)
	case typeUnsubscribe:
		checkUnsubscribe(r)
	case typeDisconnect:
		if len(body) > 0 {
			r.u8() // reason code
			if len(body) > 1 {
				r.props(disconnectProps)
			}
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = malformed("%d bytes after the end of the packet", len(r.b))
	}
	return r.err
}

// Connect flags.
const (
	flagReserved = 0x01
	flagWill     = 0x04
	flagWillQoS  = 0x18
	flagWillRet  = 0x20
	flagPassword = 0x40
	flagUsername = 0x80
)

// v3connack refuses MQTT 3.1/3.1.1 with "unacceptable protocol version";
// devices speak MQTT 5 (PROTOCOL.md §1).
var v3connack = []byte{0x20, 0x02, 0x00, 0x01}

func connack(code byte) []byte { return []byte{0x20, 0x03, 0x00, code, 0x00} }

func checkConnect(r *reader) *frameError {
	name := r.bin()
	level := r.u8()
	if r.err != nil {
		return &frameError{code: codeMalformed, reason: r.err.reason, connack: connack(codeMalformed)}
	}
	switch {
	case (level == 3 && string(name) == "MQIsdp") || (level == 4 && string(name) == "MQTT"):
		return &frameError{code: codeUnsupportedProto, reason: "MQTT 3 is not supported; use MQTT 5", connack: v3connack}
	case level != 5 || string(name) != "MQTT":
		return &frameError{code: codeUnsupportedProto, reason: "unsupported protocol", connack: connack(codeUnsupportedProto)}
	}
	flags := r.u8()
	r.u16() // keep alive
	r.props(connectProps)
	r.str() // client id; mochi and the hook judge its content
	switch {
	case r.err != nil:
	case flags&flagReserved != 0:
		r.fail(malformed("CONNECT reserved flag set"))
	case flags&flagWillQoS == flagWillQoS:
		r.fail(malformed("will QoS 3"))
	case flags&flagWill == 0 && flags&(flagWillQoS|flagWillRet) != 0:
		r.fail(malformed("will QoS or retain without a will"))
	case flags&flagWill != 0:
		r.props(willProps)
		r.topicName("will topic")
		r.bin() // will payload
	}
	if flags&flagUsername != 0 {
		r.str()
	}
	if flags&flagPassword != 0 {
		r.bin()
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail(malformed("%d bytes after the end of CONNECT", len(r.b)))
	}
	if r.err != nil {
		r.err.connack = connack(r.err.code)
	}
	return r.err
}

func checkPublish(r *reader, qos byte) {
	r.topicName("topic name")
	if qos > 0 {
		r.packetID()
	}
	r.props(publishProps)
	r.b = nil // the payload is opaque
}

func checkAck(r *reader) {
	r.packetID()
	if len(r.b) > 0 {
		r.u8() // reason code
	}
	if len(r.b) > 0 {
		r.props(ackProps)
	}
}

func checkSubscribe(r *reader) {
	r.packetID()
	r.props(subscribeProps)
	if r.err == nil && len(r.b) == 0 {
		r.fail(protocolError("SUBSCRIBE without a topic filter"))
	}
	for r.err == nil && len(r.b) > 0 {
		filter := r.topicFilter()
		opts := r.u8()
		switch {
		case r.err != nil:
		case opts&0xc0 != 0:
			r.fail(malformed("subscription options: reserved bits set"))
		case opts&0x03 == 3:
			r.fail(malformed("subscription QoS 3"))
		case opts>>4&0x03 == 3:
			r.fail(protocolError("retain handling 3"))
		case opts&0x04 != 0 && strings.HasPrefix(filter, "$share/"):
			r.fail(protocolError("no local on a shared subscription"))
		}
	}
}

func checkUnsubscribe(r *reader) {
	r.packetID()
	r.props(unsubscribeProps)
	if r.err == nil && len(r.b) == 0 {
		r.fail(protocolError("UNSUBSCRIBE without a topic filter"))
	}
	for r.err == nil && len(r.b) > 0 {
		r.topicFilter()
	}
}

// reader walks a packet body. The first problem sticks in err and makes
// every later read return a zero value, so checks read straight through.
type reader struct {
	b   []byte
	err *frameError
}

func (r *reader) fail(e *frameError) {
	if r.err == nil {
		r.err = e
	}
	r.b = nil
}

func (r *reader) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail(malformed("truncated %s", what))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if v := r.take(1, "byte"); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if v := r.take(2, "two-byte integer"); v != nil {
		return uint16(v[0])<<8 | uint16(v[1])
	}
	return 0
}

func (r *reader) u32() uint32 {
	if v := r.take(4, "four-byte integer"); v != nil {
		return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	}
	return 0
}

// varint reads a Variable Byte Integer, which must use the fewest bytes
// possible (MQTT-1.5.5-1).
func (r *reader) varint() int {
	v, mult := 0, 1
	for i := 0; i < 4; i++ {
		b := r.u8()
		if r.err != nil {
			return 0
		}
		v += int(b&0x7f) * mult
		if b&0x80 == 0 {
			if i > 0 && b == 0 {
				r.fail(malformed("variable byte integer not minimally encoded"))
				return 0
			}
			return v
		}
		mult *= 128
	}
	r.fail(malformed("variable byte integer longer than 4 bytes"))
	return 0
}

func (r *reader) bin() []byte {
	n := int(r.u16())
	return r.take(n, "length-prefixed field")
}

// str reads a UTF-8 Encoded String: well-formed UTF-8 (no surrogates, no
// overlong forms) without U+0000 (MQTT-1.5.4-1, -2).
func (r *reader) str() string {
	b := r.bin()
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail(malformed("string is not valid UTF-8"))
		return ""
	}
	for _, c := range b {
		if c == 0 {
			r.fail(malformed("string contains U+0000"))
			return ""
		}
	}
	return string(b)
}

func (r *reader) packetID() {
	if id := r.u16(); r.err == nil && id == 0 {
		r.fail(protocolError("packet identifier 0"))
	}
}

// topicName reads a topic name of a PUBLISH or will: not empty (topic
// aliases are off, so an empty name names nothing) and without wildcards.
func (r *reader) topicName(what string) {
	t := r.str()
	switch {
	case r.err != nil:
	case t == "":
		r.fail(protocolError("empty %s", what))
	case strings.ContainsAny(t, "+#"):
		r.fail(protocolError("%s contains a wildcard", what))
	}
}

// topicFilter reads a topic filter and checks its wildcards: '#' only as
// the whole last level, '+' only as a whole level, and a complete
// $share/<group>/<filter>.
func (r *reader) topicFilter() string {
	f := r.str()
	if r.err != nil {
		return ""
	}
	check := f
	if rest, ok := strings.CutPrefix(f, "$share/"); ok {
		group, filter, found := strings.Cut(rest, "/")
		if !found || group == "" || filter == "" || strings.ContainsAny(group, "+#") {
			r.fail(protocolError("malformed shared subscription %q", f))
			return ""
		}
		check = filter
	}
	if check == "" {
		r.fail(protocolError("empty topic filter"))
		return ""
	}
	levels := strings.Split(check, "/")
	for i, l := range levels {
		if (strings.Contains(l, "#") && (l != "#" || i != len(levels)-1)) ||
			(strings.Contains(l, "+") && l != "+") {
			r.fail(protocolError("misplaced wildcard in topic filter %q", f))
			return ""
		}
	}
	return f
}

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
		r.fail(&frameError{code: codeTopicAlias, reason: "topic aliases are not supported"})
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
