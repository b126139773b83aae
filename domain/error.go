package domain

import (
	"errors"
	"fmt"
)

// Error codes shared by every layer. Only the HTTP and CLI edges map them to
// statuses and exit codes.
const (
	ECONFLICT    = "conflict"    // the action conflicts with current state
	EINTERNAL    = "internal"    // plaint itself failed; retry
	EINVALID     = "invalid"     // the input is malformed or breaks a rule
	ENOTFOUND    = "not_found"   // the named thing does not exist
	EUNAVAILABLE = "unavailable" // a resource is busy or locked; retry later

	EUNAUTHORIZED = "unauthorized"       // no credentials, or wrong ones
	EFORBIDDEN    = "forbidden"          // the credentials do not allow the action
	ETOOLARGE     = "too_large"          // the input is over its size limit
	ENOTALLOWED   = "method_not_allowed" // the action does not apply to the thing named
)

// Error is plaint's one error type. Code is machine readable; Field names the
// offending input (for example "data.customer_id") when there is one.
type Error struct {
	Code    string
	Field   string
	Message string
	// Reason is a short machine-readable cause for rejected input, such as
	// "missing_field" or "bad_json"; it becomes the dead-letter reason header.
	Reason string
}

// Error returns the message, prefixed with the field when one is set.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf returns an EINVALID *Error naming field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic text for internal errors so that details do not leak to clients.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}
