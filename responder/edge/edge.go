// Package edge is the MQTT server's guard at the network edge: everything
// a peer's bytes meet before mochi decodes them. It frames the byte
// stream into packets itself ([Conn]), checks every packet against the
// MQTT 5 rules for what a client may send (mochi v2.7.9 trusts lengths
// inside packets and panics on a truncated v5 SUBSCRIBE), bounds packet
// sizes before anything is allocated for them, gives every write its own
// deadline, accepts connections through a [Listener] that recovers a
// panicking connection goroutine, limits per source address what a peer
// that has not authenticated can make the server do ([Throttle]), and
// scrubs payloads out of mochi's log lines ([NewMochiLog]).
//
// It knows nothing of devices, sessions or requests: the layer above
// embeds a [Conn] in its own connection type and reads checked packets
// from it with [Conn.Next].
package edge

// Clip shortens a peer-supplied string for a log line.
func Clip(s string) string {
	const max = 128
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
