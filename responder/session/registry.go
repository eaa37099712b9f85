package session

import (
	"context"
	"sync"
	"time"
)

// A Registry holds the device sessions the broker knows.
type Registry struct {
	mu      sync.RWMutex
	devices map[string]*Device
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{devices: map[string]*Device{}}
}

// Get returns device id's session, nil if it has none.
func (g *Registry) Get(id string) *Device {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.devices[id]
}

// Session returns the device for id, creating it with create if needed.
func (g *Registry) Session(id string, create func() *Device) *Device {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, ok := g.devices[id]
	if !ok {
		d = create()
		g.devices[id] = d
	}
	return d
}

// Remove forgets d if it is still device id's session.
func (g *Registry) Remove(id string, d *Device) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.devices[id] == d {
		delete(g.devices, id)
	}
}

// RemoveUnless forgets d if it is still device id's session and kept,
// called under the registry's lock, reports false. A new session of the
// device looks its session up under the same lock, so kept can tell
// whether one has started without a window in between.
func (g *Registry) RemoveUnless(id string, d *Device, kept func() bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.devices[id] == d && !kept() {
		delete(g.devices, id)
	}
}

// All returns every session.
func (g *Registry) All() []*Device {
	g.mu.RLock()
	defer g.mu.RUnlock()
	out := make([]*Device, 0, len(g.devices))
	for _, d := range g.devices {
		out = append(out, d)
	}
	return out
}

// WaitFlushed waits until every outbox is idle or ctx ends.
func (g *Registry) WaitFlushed(ctx context.Context) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		busy := false
		for _, d := range g.All() {
			if !d.Idle() {
				busy = true
				break
			}
		}
		if !busy {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Len returns how many sessions there are.
func (g *Registry) Len() int {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return len(g.devices)
}
