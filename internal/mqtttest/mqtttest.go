// Package mqtttest builds raw MQTT 5 packets and speaks them over a TCP
// connection by hand, for the tests that must send what no client library
// would. It is for tests only: nothing but _test.go files imports it.
package mqtttest

// Cat concatenates the parts of a packet.
func Cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Str is a length-prefixed string or binary field.
func Str(s string) []byte { return append([]byte{byte(len(s) >> 8), byte(len(s))}, s...) }

// U16 is a two-byte integer, such as a packet id.
func U16(n int) []byte { return []byte{byte(n >> 8), byte(n)} }

// VBI encodes n as a Variable Byte Integer.
func VBI(n int) []byte {
	var b []byte
	for {
		c := byte(n % 128)
		if n /= 128; n > 0 {
			c |= 0x80
		}
		b = append(b, c)
		if n == 0 {
			return b
		}
	}
}

// Frame is a packet from its first byte and its body parts.
func Frame(h byte, body ...[]byte) []byte {
	b := Cat(body...)
	return Cat([]byte{h}, VBI(len(b)), b)
}

// Props is a property list with its length.
func Props(p ...[]byte) []byte { b := Cat(p...); return Cat(VBI(len(b)), b) }

// Connect is a v5 CONNECT with clean start, keep-alive 30 s, the CONNECT
// properties props (without their length) and the given credentials (none
// if user, or pass, is empty).
func Connect(id, user, pass string, props []byte) []byte {
	flags := byte(0x02)
	var creds []byte
	if user != "" {
		flags |= 0x80
		creds = append(creds, Str(user)...)
	}
	if pass != "" {
		flags |= 0x40
		creds = append(creds, Str(pass)...)
	}
	return Frame(0x10, Str("MQTT"), []byte{5, flags}, U16(30), Props(props), Str(id), creds)
}

// Request is a QoS 0 request for the category list answered on
// devices/<id>/r.
func Request(id string) []byte {
	props := Cat([]byte{0x08}, Str("devices/"+id+"/r"))
	return Frame(0x30, Str("recipes/categories"), []byte{byte(len(props))}, props)
}
