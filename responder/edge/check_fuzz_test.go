package edge

import (
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/recipesd/recipesd/internal/mqtttest"
)

// FuzzPacketCheck: whatever passes the packet checks, mochi decodes
// without panicking.
//
//	go test -run '^$' -fuzz FuzzPacketCheck -fuzztime 30s ./responder/edge/
func FuzzPacketCheck(f *testing.F) {
	f.Add(mqtttest.Frame(0x10, mqtttest.Str("MQTT"), []byte{5, 0x02, 0, 30, 0}, mqtttest.Str("oven")))
	f.Add([]byte{0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'})
	f.Add(mqtttest.Frame(0x30, mqtttest.Str("recipes/categories"), []byte{17, 0x08}, mqtttest.Str("devices/oven/r")))
	f.Add(mqtttest.Frame(0x82, []byte{0, 1, 2, 0x0b, 5}, mqtttest.Str("devices/oven/#"), []byte{0x15}))
	f.Add(mqtttest.Frame(0xe0, []byte{0x04, 0x05, 0x11, 0, 0, 0, 5}))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		h := data[0]
		var fh packets.FixedHeader
		if fh.Decode(h) != nil {
			return
		}
		i, remaining, mult := 1, 0, 1
		for {
			if i >= len(data) || i > 4 {
				return
			}
			b := data[i]
			remaining += int(b&0x7f) * mult
			i++
			if b&0x80 == 0 {
				break
			}
			mult *= 128
		}
		if len(data)-i < remaining {
			return
		}
		body := data[i : i+remaining]
		connected := h>>4 != typeConnect
		if checkHeader(h, remaining, connected) != nil || checkPacket(h, body) != nil {
			return
		}
		fh.Remaining = remaining
		pk := packets.Packet{FixedHeader: fh, ProtocolVersion: 5}
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("mochi panicked on a checked packet % x: %v", data, v)
			}
		}()
		buf := append([]byte(nil), body...)
		switch h >> 4 {
		case typeConnect:
			_ = pk.ConnectDecode(buf)
		case typePublish:
			_ = pk.PublishDecode(buf)
		case typePuback:
			_ = pk.PubackDecode(buf)
		case typePubrec:
			_ = pk.PubrecDecode(buf)
		case typePubrel:
			_ = pk.PubrelDecode(buf)
		case typePubcomp:
			_ = pk.PubcompDecode(buf)
		case typeSubscribe:
			_ = pk.SubscribeDecode(buf)
		case typeUnsubscribe:
			_ = pk.UnsubscribeDecode(buf)
		case typeDisconnect:
			_ = pk.DisconnectDecode(buf)
		}
	})
}
