package session

import (
	"context"
	"maps"
	"sync"
	"time"
)

// SeenLog batches devices' last-seen times so that a reconnect storm
// costs the registry one write per interval, not one per connection. Its
// zero value is empty and ready.
type SeenLog struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// Add records that device id was seen at t.
func (s *SeenLog) Add(id string, t time.Time) {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]time.Time{}
	}
	s.seen[id] = t
	s.mu.Unlock()
}

func (s *SeenLog) take() map[string]time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.seen
	s.seen = nil
	return out
}

// putBack returns a batch that could not be written, keeping newer times.
func (s *SeenLog) putBack(batch map[string]time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = batch
		return
	}
	for id, t := range batch {
		if cur, ok := s.seen[id]; !ok || cur.Before(t) {
			s.seen[id] = t
		}
	}
}

// Flush hands the batch to write, within two seconds of ctx. A batch
// that could not be written is kept for the next Flush, and write's error
// returned with the batch's size.
func (s *SeenLog) Flush(ctx context.Context, write func(context.Context, map[string]time.Time) error) (int, error) {
	batch := s.take()
	if len(batch) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := write(ctx, batch); err != nil {
		s.putBack(maps.Clone(batch))
		return len(batch), err
	}
	return len(batch), nil
}
