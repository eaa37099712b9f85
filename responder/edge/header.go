package edge

// checkHeader checks a fixed header before the body is read: the packet
// type, its flags, and that CONNECT comes first and only once.
func checkHeader(h byte, remaining int, connected bool) *FrameError {
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
			return &FrameError{Code: codeRetainNotSupp, Reason: "retain is not supported"}
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
