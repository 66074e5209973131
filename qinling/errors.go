package qinling

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a refusal the API reports to its client: Status is the HTTP
// status code (400 bad input, 403 admin only, 404 not found or another
// project's, 409 conflict, 413 package too large, 429 webhook rate limit,
// 503 engine unavailable) and Msg the human message. The REST layer maps
// it with errors.As; any other error is a 500.
type Error struct {
	Status int
	Msg    string
}

func (e *Error) Error() string { return "qinling: " + e.Msg }

// Is makes errors.Is(err, ErrNotFound) and the like match by status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Msg == "" && t.Status == e.Status
}

// Status-only errors for errors.Is: errors.Is(err, qinling.ErrNotFound).
var (
	// ErrBadRequest: the request is invalid (400).
	ErrBadRequest = &Error{Status: http.StatusBadRequest}
	// ErrForbidden: only the administrator may do this (403).
	ErrForbidden = &Error{Status: http.StatusForbidden}
	// ErrNotFound: no such resource in the caller's project (404).
	ErrNotFound = &Error{Status: http.StatusNotFound}
	// ErrConflict: the resource is in use or exists (409).
	ErrConflict = &Error{Status: http.StatusConflict}
	// ErrTooLarge: the package exceeds Config.MaxPackageBytes (413).
	ErrTooLarge = &Error{Status: http.StatusRequestEntityTooLarge}
	// ErrRateLimited: a webhook is invoked faster than its limit (429).
	ErrRateLimited = &Error{Status: http.StatusTooManyRequests}
	// ErrUnavailable: the engine cannot run code on this node (503).
	ErrUnavailable = &Error{Status: http.StatusServiceUnavailable}
	// ErrNotImplemented: the service does not do this (501).
	ErrNotImplemented = &Error{Status: http.StatusNotImplemented}
)

// ErrorStatus returns the HTTP status for err: an *Error's Status, 500
// for anything else.
func ErrorStatus(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return http.StatusInternalServerError
}

func errorf(status int, format string, args ...any) error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

func notFound(kind, id string) error {
	return errorf(http.StatusNotFound, "%s %s not found", kind, id)
}

func conflict(format string, args ...any) error {
	return errorf(http.StatusConflict, format, args...)
}
