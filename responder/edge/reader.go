package edge

import "unicode/utf8"

// reader walks a packet body. The first problem sticks in err and makes
// every later read return a zero value, so checks read straight through.
type reader struct {
	b   []byte
	err *FrameError
}

func (r *reader) fail(e *FrameError) {
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
