package edge

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/mochi-mqtt/server/v2/packets"
	"golang.org/x/time/rate"
)

// mochiLog is the handler behind mochi's logger. mochi logs whole packets,
// payloads included (as decimal bytes: 3 log bytes per payload byte), when
// it refuses or fails to process one, so a device could grow the log by
// megabytes a second. Packets are reduced to their type, identifier, topic
// and payload size, and mochi's lines are rate-limited.
type mochiLog struct {
	next       slog.Handler
	limit      *rate.Limiter
	suppressed *atomic.Int64
}

// NewMochiLog returns the handler for mochi's logger, passing what is left
// of its lines to next.
func NewMochiLog(next slog.Handler) slog.Handler {
	return &mochiLog{next: next, limit: rate.NewLimiter(10, 50), suppressed: new(atomic.Int64)}
}

func (h *mochiLog) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *mochiLog) Handle(ctx context.Context, rec slog.Record) error {
	if !h.limit.Allow() {
		h.suppressed.Add(1)
		return nil
	}
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(scrubPacket(a))
		return true
	})
	if n := h.suppressed.Swap(0); n > 0 {
		out.AddAttrs(slog.Int64("suppressed", n))
	}
	return h.next.Handle(ctx, out)
}

func (h *mochiLog) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = scrubPacket(a)
	}
	return &mochiLog{next: h.next.WithAttrs(clean), limit: h.limit, suppressed: h.suppressed}
}

func (h *mochiLog) WithGroup(name string) slog.Handler {
	return &mochiLog{next: h.next.WithGroup(name), limit: h.limit, suppressed: h.suppressed}
}

// scrubPacket replaces a packet value by a summary without its payload.
func scrubPacket(a slog.Attr) slog.Attr {
	var pk *packets.Packet
	switch v := a.Value.Any().(type) {
	case packets.Packet:
		pk = &v
	case *packets.Packet:
		pk = v
	default:
		return a
	}
	if pk == nil {
		return a
	}
	return slog.Group(a.Key,
		"type", packetName(pk.FixedHeader.Type),
		"id", pk.PacketID,
		"topic", Clip(pk.TopicName),
		"payload_bytes", len(pk.Payload))
}

func packetName(t byte) string {
	if n, ok := packets.PacketNames[t]; ok {
		return n
	}
	return "unknown"
}
