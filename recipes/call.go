package recipes

import (
	"errors"
	"fmt"
	"time"
)

// Outcome codes of a command to a device (RRPC, PROTOCOL.md §4) that got no
// answer. The responder returns them in a [*CallError] and counts calls by
// them; admin maps them to HTTP statuses in one table.
const (
	CallOffline     = "offline"                // not connected, or not subscribed to its command topic; nothing was sent
	CallTimeout     = "timeout"                // no answer in time
	CallGone        = "disconnected"           // the device disconnected before answering
	CallBusy        = "busy"                   // the device's outbox is full; nothing was sent
	CallBadAnswer   = "bad_answer"             // the answer is not a JSON object with a numeric status
	CallTooLarge    = "too_large"              // larger than the device's Maximum Packet Size; nothing was sent
	CallKeyReused   = "idempotency_key_reused" // the idempotency key was used for a different command; nothing was sent
	CallTooManyKeys = "too_many_keys"          // as many keyed outcomes remembered as may be; nothing was sent
)

// CallError is a command to a device that got no answer. [errors.Is]
// matches it against the Err values below by Code alone, whatever its
// details.
type CallError struct {
	Code   string // one of the Call codes
	Reason string // what happened, for logs; empty: the code's own words

	Timeout time.Duration // CallTimeout: how long the call waited
	Size    int           // CallTooLarge: the command's packet size (an upper bound)
	Limit   int           // CallTooLarge: the device's Maximum Packet Size; CallTooManyKeys: the outcomes remembered
	Caller  bool          // CallTooManyKeys: the caller's own share is full, while other callers may go on
	Node    string        // CallOffline: the node that held the device's connection and is gone

	Err error // the cause, if any
}

// The outcomes without details, for [errors.Is].
var (
	ErrCallOffline     = &CallError{Code: CallOffline}
	ErrCallTimeout     = &CallError{Code: CallTimeout}
	ErrCallGone        = &CallError{Code: CallGone}
	ErrCallBusy        = &CallError{Code: CallBusy}
	ErrCallBadAnswer   = &CallError{Code: CallBadAnswer}
	ErrCallTooLarge    = &CallError{Code: CallTooLarge}
	ErrCallKeyReused   = &CallError{Code: CallKeyReused}
	ErrCallTooManyKeys = &CallError{Code: CallTooManyKeys}
)

// callWords says what each outcome is, for logs.
var callWords = map[string]string{
	CallOffline:     "device offline",
	CallTimeout:     "no answer in time",
	CallGone:        "device disconnected before answering",
	CallBusy:        "device outbox full",
	CallBadAnswer:   "malformed answer",
	CallTooLarge:    "command larger than the device accepts",
	CallKeyReused:   "idempotency key already used for a different command",
	CallTooManyKeys: "too many idempotency keys remembered",
}

// Error implements the error interface.
func (e *CallError) Error() string {
	s := "call: " + callWords[e.Code]
	if e.Reason != "" {
		s = "call: " + e.Reason
	}
	switch e.Code {
	case CallTimeout:
		s += fmt.Sprintf(" (%d ms)", e.Timeout.Milliseconds())
	case CallTooLarge:
		s += fmt.Sprintf(": %d bytes, it accepts at most %d", e.Size, e.Limit)
	case CallTooManyKeys:
		if e.Caller {
			s += " for this caller"
		}
		s += fmt.Sprintf(" (%d)", e.Limit)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is a *CallError with the same code.
func (e *CallError) Is(target error) bool {
	t, ok := target.(*CallError)
	return ok && t.Code == e.Code
}

// Unwrap returns the cause.
func (e *CallError) Unwrap() error { return e.Err }

// CallErrorCode returns the code of the first *CallError in err's chain, or
// "" if there is none.
func CallErrorCode(err error) string {
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return ""
}
