package edge

import "strings"

// checkPacket checks the body of a packet whose header passed checkHeader.
func checkPacket(h byte, body []byte) *FrameError {
	r := &reader{b: body}
	switch h >> 4 {
	case typeConnect:
		return checkConnect(r)
	case typePublish:
		checkPublish(r, h>>1&3)
	case typePuback, typePubrec, typePubrel, typePubcomp:
		checkAck(r)
	case typeSubscribe, typeUnsubscribe:
		checkFilters(r, h>>4 == typeSubscribe)
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

// checkFilters checks a SUBSCRIBE (subscribe) or UNSUBSCRIBE: its packet
// identifier, its properties, and one or more topic filters, each followed
// by its subscription options in a SUBSCRIBE.
func checkFilters(r *reader, subscribe bool) {
	name, props := "UNSUBSCRIBE", unsubscribeProps
	if subscribe {
		name, props = "SUBSCRIBE", subscribeProps
	}
	r.packetID()
	r.props(props)
	if r.err == nil && len(r.b) == 0 {
		r.fail(protocolError("%s without a topic filter", name))
	}
	for r.err == nil && len(r.b) > 0 {
		filter := r.topicFilter()
		if subscribe {
			checkOptions(r, filter)
		}
	}
}

// checkOptions checks the subscription options byte that follows filter.
func checkOptions(r *reader, filter string) {
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
