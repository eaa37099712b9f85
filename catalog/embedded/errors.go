package embedded

import "fmt"

// JournalError is why the store refuses a write: its journal could not be
// written, so it cannot make the write durable, and it refuses every
// write from then on.
//
// An undone one is a write whose outcome was unknown and that was undone
// to match the journal: that write failed, the store goes on.
type JournalError struct {
	path   string
	err    error
	undone bool
}

// Error implements the error interface.
func (e *JournalError) Error() string {
	if e.undone {
		return fmt.Sprintf("catalog: journal %s: %v; the write was undone", e.path, e.err)
	}
	return fmt.Sprintf("catalog: journal %s: %v; refusing writes until restart", e.path, e.err)
}

// Unwrap returns why the journal failed.
func (e *JournalError) Unwrap() error { return e.err }

// Undone reports whether the write was undone and the store goes on
// taking writes; if not, it refuses every write until it is reopened.
func (e *JournalError) Undone() bool { return e.undone }
