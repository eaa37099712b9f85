package responder

import (
	"sync"
)

// The calls waiting for a device's answer. (The idempotency memory of
// keyed calls is in Redis, kept by package cluster, so that every node
// honours a key.)

// pendingCall is one call waiting for its answer.
type pendingCall struct {
	device string
	done   chan callOutcome // buffered 1: whoever removes the call sends once
}

type callOutcome struct {
	payload []byte
	err     error
}

// calls is the pending-call table.
type calls struct {
	mu      sync.Mutex
	pending map[string]*pendingCall // by correlation data
}

func (cs *calls) add(corr string, c *pendingCall) {
	cs.mu.Lock()
	if cs.pending == nil {
		cs.pending = map[string]*pendingCall{}
	}
	cs.pending[corr] = c
	cs.mu.Unlock()
}

// take removes and returns the call with correlation corr if it belongs to
// device (any device if device is "").
func (cs *calls) take(corr, device string) *pendingCall {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok := cs.pending[corr]
	if !ok || (device != "" && c.device != device) {
		return nil
	}
	delete(cs.pending, corr)
	return c
}

// failDevice ends every pending call to device (all if device is "") with err.
func (cs *calls) failDevice(device string, err error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for corr, c := range cs.pending {
		if device == "" || c.device == device {
			delete(cs.pending, corr)
			c.done <- callOutcome{err: err}
		}
	}
}

func (cs *calls) count() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return len(cs.pending)
}
