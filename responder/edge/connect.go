package edge

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

func checkConnect(r *reader) *FrameError {
	name := r.bin()
	level := r.u8()
	if r.err != nil {
		return &FrameError{Code: codeMalformed, Reason: r.err.Reason, Connack: connack(codeMalformed)}
	}
	switch {
	case (level == 3 && string(name) == "MQIsdp") || (level == 4 && string(name) == "MQTT"):
		return &FrameError{Code: codeUnsupportedProto, Reason: "MQTT 3 is not supported; use MQTT 5", Connack: v3connack}
	case level != 5 || string(name) != "MQTT":
		return &FrameError{Code: codeUnsupportedProto, Reason: "unsupported protocol", Connack: connack(codeUnsupportedProto)}
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
		r.err.Connack = connack(r.err.Code)
	}
	return r.err
}
