package udf

import (
	"errors"
	"fmt"

	"eventide/query/engine"
)

// Sentinel errors: every error the service returns for bad input, a
// missing function or a failed call wraps one (errors.Is); the message the
// user sees, with Couchbase's code, is the *Error's.
var (
	// ErrInvalidConfig: New was given an invalid setting.
	ErrInvalidConfig = errors.New("udf: invalid config")
	// ErrMissingDependency: New was given no records store or libraries.
	ErrMissingDependency = errors.New("udf: missing dependency")
	// ErrInvalidName: a function name Couchbase refuses (10105).
	ErrInvalidName = errors.New("udf: invalid function name")
	// ErrInvalidDefinition: a definition that cannot be stored (10107).
	ErrInvalidDefinition = errors.New("udf: invalid function definition")
	// ErrScopeNotFound: a scoped function's scope does not exist (12021).
	ErrScopeNotFound = errors.New("udf: scope not found")
	// ErrExists: CREATE of a function that exists (10102).
	ErrExists = errors.New("udf: function exists")
	// ErrNotFound: DROP of a function that does not exist (10101).
	ErrNotFound = errors.New("udf: function not found")
	// ErrLibraryPath: an AT path Couchbase refuses (10114).
	ErrLibraryPath = errors.New("udf: invalid library path")
	// ErrLoad: an inline JavaScript function's code does not compile
	// (10115).
	ErrLoad = errors.New("udf: function loading error")
	// ErrArguments: a call with the wrong number of arguments (10104).
	ErrArguments = errors.New("udf: arguments mismatch")
	// ErrExecution: a JavaScript call failed: it threw, its library or
	// function is missing, it ran out of time or memory (10109).
	ErrExecution = errors.New("udf: function execution error")
	// ErrTimeout: a JavaScript call ran past its timeout or its context's
	// end; it also wraps ErrExecution.
	ErrTimeout = errors.New("udf: function timeout")
	// ErrStorage: the definitions could not be written (10106).
	ErrStorage = errors.New("udf: function storage error")
)

// Couchbase's codes for the errors above.
const (
	codeMissing       = 10101
	codeDuplicate     = 10102
	codeArguments     = 10104
	codeInvalidName   = 10105
	codeStorage       = 10106
	codeEncoding      = 10107
	codeExecution     = 10109
	codeLibraryPath   = 10114
	codeLoading       = 10115
	codeScopeNotFound = 12021
)

// Error is an error with Couchbase's code, message and reason. It unwraps
// to its Kind (one of the sentinels; a timeout's is ErrExecution joined
// with ErrTimeout), to an *engine.Error carrying the
// same code, message and reason (for the query service's response), and
// to Cause when there is one (a context's error).
type Error struct {
	Kind   error
	Code   int
	Msg    string
	Reason map[string]any
	Cause  error
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the kind, the engine's view and the cause.
func (e *Error) Unwrap() []error {
	errs := []error{e.Kind, e.Engine()}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// Engine returns the error as the engine reports it.
func (e *Error) Engine() *engine.Error {
	return &engine.Error{Code: e.Code, Msg: e.Msg, Reason: e.Reason}
}

func newError(kind error, code int, reason map[string]any, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Msg: fmt.Sprintf(format, args...), Reason: reason}
}
