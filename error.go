package baton

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Every error that crosses a package boundary carries one of
// these, so that callers (and the HTTP layer, in one place) can decide what to
// do without matching strings or driver-specific error types.
const (
	ECONFLICT     = "conflict"     // unique key or version clash
	EINTERNAL     = "internal"     // a bug or an unexpected failure
	EINVALID      = "invalid"      // the input is wrong; retrying will not help
	ENOTFOUND     = "not_found"    // the thing asked for does not exist
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials / signature
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed
	ETOOLARGE     = "too_large"    // a body or value over its limit
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retrying may help
	ERATELIMITED  = "rate_limited" // over a rate or concurrency limit; retry later
)

// Error is the domain error: a machine-readable code, a message fit for the
// person who caused it, and the wrapped cause for logs.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error returns the message, which already includes the cause's text (see
// Errorf and WrapError), so that a chain of wraps never repeats it.
func (e *Error) Error() string {
	switch {
	case e.Message != "":
		return e.Message
	case e.Err != nil:
		return e.Err.Error()
	default:
		return e.Code
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message. A %w
// verb in format wraps its argument as the cause.
func Errorf(code, format string, args ...any) *Error {
	wrapped := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: wrapped.Error(), Err: errors.Unwrap(wrapped)}
}

// WrapError attaches a code to an existing error without losing it; the
// message is "message: cause".
func WrapError(code string, err error, message string) error {
	if err == nil {
		return nil
	}
	if message == "" {
		return &Error{Code: code, Message: err.Error(), Err: err}
	}
	return &Error{Code: code, Message: message + ": " + err.Error(), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human-readable message of the first *Error in
// err's chain; internal errors get a generic text so that details of a bug or
// a driver never leak to a client.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Error()
	}
	return "internal error"
}

// HTTPStatus is the one mapping from error codes to HTTP statuses, used by
// every handler that answers over HTTP.
func HTTPStatus(err error) int {
	switch ErrorCode(err) {
	case ENOTFOUND:
		return http.StatusNotFound
	case EINVALID:
		return http.StatusBadRequest
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ECONFLICT:
		return http.StatusConflict
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case ERATELIMITED:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every failed HTTP request, whichever
// handler answers it: {"error": {"code": "...", "message": "..."}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and the client-safe message of an ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NewErrorBody is the body for err: its code and its message, which for
// internal errors is generic (see ErrorMessage).
func NewErrorBody(err error) ErrorBody {
	return ErrorBody{Error: ErrorDetail{Code: ErrorCode(err), Message: ErrorMessage(err)}}
}
