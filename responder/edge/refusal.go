package edge

import "fmt"

// The packet checks below run on every packet a device sends, before mochi
// decodes it: mochi v2.7.9 trusts lengths inside packets (a truncated MQTT 5
// SUBSCRIBE makes it index past the end and panic) and is lenient where MQTT
// 5 says "protocol error". They follow the MQTT 5.0 rules for packets a
// client sends; anything else is refused with a reason code, so a bad
// packet closes that one connection and mochi only ever sees packets that
// are well-formed.

// A FrameError is why a packet was refused: an MQTT 5 reason code and what
// was wrong, sent to the device as the DISCONNECT (or CONNACK) reason.
type FrameError struct {
	Code   byte
	Reason string
	// Connack, if set, is written before closing a connection whose
	// CONNECT was refused ([Conn.Refuse]), for clients that cannot take a
	// v5 CONNACK.
	Connack []byte
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("edge: packet refused (reason code 0x%02x): %s", e.Code, e.Reason)
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

func malformed(format string, args ...any) *FrameError {
	return &FrameError{Code: codeMalformed, Reason: fmt.Sprintf(format, args...)}
}

func protocolError(format string, args ...any) *FrameError {
	return &FrameError{Code: codeProtocolError, Reason: fmt.Sprintf(format, args...)}
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
