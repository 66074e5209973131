package library

import (
	"errors"
	"fmt"
)

// Sentinel errors: every error the service returns for bad input or a
// missing library wraps one, so that a REST layer can map it with
// errors.Is. Their messages, as the user sees them, are Error's.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("library: invalid config")
	// ErrMissingDependency: New was given no records store.
	ErrMissingDependency = errors.New("library: missing dependency")
	// ErrInvalidName: a library, function, bucket or scope name that
	// Couchbase refuses.
	ErrInvalidName = errors.New("library: invalid name")
	// ErrInvalid: a request that is malformed in another way (a missing
	// field, a bad function id, both or neither of bucket and scope).
	ErrInvalid = errors.New("library: invalid request")
	// ErrNameMismatch: the name in a body is not the one in the path.
	ErrNameMismatch = errors.New("library: name mismatch")
	// ErrNotFound: no such library.
	ErrNotFound = errors.New("library: library not found")
	// ErrFunctionNotFound: the library has no such function.
	ErrFunctionNotFound = errors.New("library: function not found")
	// ErrScopeNotFound: the bucket or scope of a scoped library does not
	// exist.
	ErrScopeNotFound = errors.New("library: scope not found")
	// ErrTooLarge: a library's code is over Config.MaxLibraryBytes.
	ErrTooLarge = errors.New("library: library too large")
	// ErrCompile: code that does not parse or compile (a *CompileError).
	ErrCompile = errors.New("library: compile error")
	// ErrConflict: concurrent writers kept changing a library while this
	// write retried; the client may try again.
	ErrConflict = errors.New("library: concurrent change")
)

// Error is an error a user caused: Kind is one of the sentinels above and
// Message what the user is told (Couchbase's wording where it has one).
type Error struct {
	Kind    error
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the kind, for errors.Is.
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// CompileError is code that does not parse or compile, positioned in it.
type CompileError struct {
	// Library is the library's name; Function, in the functions form, the
	// function object whose code failed.
	Library  string
	Function string
	// Line and Column are 1-based; 0 when the compiler gave no position.
	Line, Column int
	// Message is the compiler's, prefixed with the error class
	// ("SyntaxError: ...").
	Message string
}

// Error renders where and what.
func (e *CompileError) Error() string {
	where := "library " + e.Library
	if e.Function != "" {
		where += ", function " + e.Function
	}
	if e.Line > 0 {
		return fmt.Sprintf("Compilation failed for %s: %s (line %d, column %d)", where, e.Message, e.Line, e.Column)
	}
	return fmt.Sprintf("Compilation failed for %s: %s", where, e.Message)
}

// Unwrap returns ErrCompile.
func (e *CompileError) Unwrap() error { return ErrCompile }
