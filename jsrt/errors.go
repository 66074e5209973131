package jsrt

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrTimeout: an invocation ran longer than its timeout and was
	// interrupted.
	ErrTimeout = errors.New("jsrt: execution timeout")
	// ErrMemoryBudget: an invocation grew the heap past its budget.
	ErrMemoryBudget = errors.New("jsrt: memory budget exceeded")
	// ErrNotAFunction: a built-in program did not evaluate to a function (a
	// bug, not a user error).
	ErrNotAFunction = errors.New("jsrt: built-in program is not a function")
	// ErrNotInstalled: an installer needs another one to have run first
	// (curl needs the CurlError class).
	ErrNotInstalled = errors.New("jsrt: prerequisite not installed")
)

// ErrRegexLimit ends an invocation whose regular expression ran past
// RegexMatchLimit; it counts as a timeout (it wraps ErrTimeout).
var ErrRegexLimit = fmt.Errorf("%w: a regular expression match ran longer than %s", ErrTimeout, RegexMatchLimit)

// InternalCompileError reports a panic inside goja's compiler, caught so
// that it cannot take the process down.
type InternalCompileError struct {
	// Value is what the compiler panicked with.
	Value any
}

// Error renders the panic value.
func (e *InternalCompileError) Error() string {
	return fmt.Sprintf("internal compiler error: %v", e.Value)
}
