package responder

import (
	"cmp"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/recipesd/recipesd/recipes"
)

// The calls waiting for a device's answer, and the idempotency memory of
// [Responder.CallOnce].

// pendingCall is one call waiting for its answer.
type pendingCall struct {
	device string
	done   chan callOutcome // buffered 1: whoever removes the call sends once
}

type callOutcome struct {
	payload []byte
	err     error
}

// calls is the pending-call table and the idempotency memory.
type calls struct {
	mu      sync.Mutex
	pending map[string]*pendingCall // by correlation data

	// once remembers keyed outcomes by caller, then by device and key:
	// callers never see, nor collide with, each other's keys.
	once      map[string]callerKeys
	onceLen   int // outcomes in once, all callers
	maxOnce   int // bound of onceLen; 0: maxOnce
	maxCaller int // bound of one caller's outcomes; 0: maxOncePerCaller
}

// callerKeys are one caller's remembered outcomes, by device and key.
type callerKeys map[string]*onceEntry

// onceEntry is the outcome of a call made with an idempotency key; done is
// closed when it is known.
type onceEntry struct {
	command [sha256.Size]byte // what was asked: a reuse must ask the same
	done    chan struct{}
	res     CallResult
	err     error
	expires time.Time
}

// idempotencyTTL is how long the outcome of a keyed call is remembered,
// maxOnce bounds how many are, and maxOncePerCaller how many of them one
// caller may hold: a caller that fills its share is refused new keys
// itself, while the others' keyed calls go on.
const (
	idempotencyTTL   = 10 * time.Minute
	maxOnce          = 10000
	maxOncePerCaller = 1000
)

// expired reports whether e is known and past its memory.
func (e *onceEntry) expired(now time.Time) bool {
	return !e.expires.IsZero() && now.After(e.expires)
}

// forget drops caller's outcome under k. cs.mu is held.
func (cs *calls) forget(caller, k string) {
	ck := cs.once[caller]
	if _, ok := ck[k]; !ok {
		return
	}
	delete(ck, k)
	cs.onceLen--
	if len(ck) == 0 {
		delete(cs.once, caller)
	}
}

// sweep drops caller's expired outcomes (every caller's if all). cs.mu is
// held.
func (cs *calls) sweep(caller string, all bool, now time.Time) {
	for c, ck := range cs.once {
		if !all && c != caller {
			continue
		}
		for k, e := range ck {
			if e.expired(now) {
				cs.forget(c, k)
			}
		}
	}
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

// remember makes room for, and files, a new outcome of caller under k,
// or says which bound is reached. cs.mu is held.
func (cs *calls) remember(caller, k string, e *onceEntry, now time.Time) error {
	if limit := cmp.Or(cs.maxCaller, maxOncePerCaller); len(cs.once[caller]) >= limit {
		cs.sweep(caller, false, now)
		if len(cs.once[caller]) >= limit {
			return &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: limit, Caller: true}
		}
	}
	if limit := cmp.Or(cs.maxOnce, maxOnce); cs.onceLen >= limit {
		cs.sweep("", true, now)
		if cs.onceLen >= limit {
			return &recipes.CallError{Code: recipes.CallTooManyKeys, Limit: limit}
		}
	}
	if cs.once == nil {
		cs.once = map[string]callerKeys{}
	}
	ck := cs.once[caller]
	if ck == nil {
		ck = callerKeys{}
		cs.once[caller] = ck
	}
	ck[k] = e
	cs.onceLen++
	return nil
}
