package recipes

import (
	"errors"
	"fmt"
)

// Error codes shared by every package. Transports map them to their own
// status codes (HTTP, MQTT reply status) in one table each.
const (
	ECONFLICT    = "conflict"
	EINTERNAL    = "internal"
	EINVALID     = "invalid"
	ENOTFOUND    = "not_found"
	EUNAVAILABLE = "unavailable" // the store cannot be reached right now
)

// Error is a domain error whose Message is written for the person or device
// that caused it. Details of other errors reach only the logs.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("recipes error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error or *ValidationError in err's
// chain, EINTERNAL for any other error, and "" for nil.
func ErrorCode(err error) string {
	code, _ := classify(err)
	return code
}

// ErrorMessage returns the user-facing message of err, and a generic one for
// errors that are not domain errors so that internals never leak.
func ErrorMessage(err error) string {
	_, message := classify(err)
	return message
}

// classify is the one reading of err that ErrorCode and ErrorMessage share,
// so that a code and its message always come from the same error.
func classify(err error) (code, message string) {
	var e *Error
	var v *ValidationError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &e):
		return e.Code, e.Message
	case errors.As(err, &v):
		return EINVALID, v.Error()
	}
	return EINTERNAL, "Internal error."
}
