package handler

import (
	"errors"
	"fmt"
	"strings"

	"eventide/jsrt"
)

// Sentinel errors. Callers test with errors.Is.
var (
	// ErrInvalidSettings: a Settings or Config field is out of range.
	ErrInvalidSettings = errors.New("handler: invalid settings")
	// ErrInvalidBinding: a bucket or constant binding is malformed (bad
	// alias, duplicate alias, bad access mode, bad literal).
	ErrInvalidBinding = errors.New("handler: invalid binding")
	// ErrException: a handler invocation ended with an uncaught exception.
	ErrException = errors.New("handler: uncaught exception")
	// ErrTimeout: a handler invocation ran longer than the execution timeout
	// and was terminated (jsrt's).
	ErrTimeout = jsrt.ErrTimeout
	// ErrMemoryBudget: a handler invocation grew the heap past its
	// function's budget (jsrt's).
	ErrMemoryBudget = jsrt.ErrMemoryBudget
	// ErrInvalidEvent: Handle, FireTimer or OnDeploy was given an event it
	// cannot dispatch (no document, nil store, unknown OnDeploy reason).
	ErrInvalidEvent = errors.New("handler: invalid event")
	// ErrCallbackMissing: a fired timer's callback is not a global function
	// (any more); the timer is dropped.
	ErrCallbackMissing = errors.New("handler: timer callback missing")
	// ErrWorkerClosed: Handle was called after Close.
	ErrWorkerClosed = errors.New("handler: worker closed")
	// ErrWorkerBroken: the worker's runtime hit an internal error and must be
	// replaced; every later call fails with this error.
	ErrWorkerBroken = errors.New("handler: worker broken")
	// ErrAppLogClosed: the application log was closed.
	ErrAppLogClosed = errors.New("handler: app log closed")
	// ErrInvalidAppLog: OpenAppLog was given a bad name, size or file count.
	ErrInvalidAppLog = errors.New("handler: invalid app log")
	// ErrQueryNotAvailable: the handler uses Analytics or Search queries,
	// services eventide does not have. Compile reports it as a
	// *CompileError whose Unwrap gives it.
	ErrQueryNotAvailable = errors.New("handler: query service not available")
)

// CompileError reports handler code that does not compile or breaks the
// structure rules. Line and Column are 1-based positions in the user's code
// (headers and injected constants are not counted); both are 0 when the
// problem has no position (for example a missing OnUpdate/OnDelete).
type CompileError struct {
	Line    int
	Column  int
	Message string
	// Err, when set, classifies the problem (ErrQueryNotAvailable); nil for
	// syntax and structure errors.
	Err error
}

// Error names the position (when known) and the message.
func (e *CompileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("handler: compile error at line %d, column %d: %s", e.Line, e.Column, e.Message)
	}
	return "handler: compile error: " + e.Message
}

// Unwrap returns the problem's class (nil for syntax and structure errors).
func (e *CompileError) Unwrap() error { return e.Err }

// InvocationError describes a failed handler invocation: an uncaught
// exception (Unwrap gives ErrException), a timeout (ErrTimeout) or an
// interruption by the caller's context (context.Canceled or
// context.DeadlineExceeded).
type InvocationError struct {
	// Entry is the JavaScript entry point: "OnUpdate", "OnDelete",
	// "OnDeploy", a timer's callback name, or "init" for the program's
	// first run.
	Entry string
	// Key is the document key of the event, the reference of a timer, or ""
	// (init, OnDeploy).
	Key string
	// Message is the exception rendered as text ("Error: boom"); for
	// timeouts and interruptions a description of what happened.
	Message string
	// Line and Column locate the exception (or the statement running when
	// the invocation was terminated) in the user's code; 0 when unknown.
	Line, Column int
	// Stack is the JavaScript stack trace, innermost frame first, when known.
	Stack string
	// Err is ErrException, ErrTimeout or the context's error.
	Err error
}

// Error renders entry, key, position and message.
func (e *InvocationError) Error() string {
	var b strings.Builder
	b.WriteString("handler: ")
	b.WriteString(e.Entry)
	if e.Key != "" {
		fmt.Fprintf(&b, " (key %q)", e.Key)
	}
	switch {
	case errors.Is(e.Err, ErrException):
		b.WriteString(": uncaught exception")
	case errors.Is(e.Err, ErrTimeout):
		b.WriteString(": execution timeout")
	case errors.Is(e.Err, ErrMemoryBudget):
		b.WriteString(": memory budget exceeded")
	default:
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d, column %d", e.Line, e.Column)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Unwrap returns the error class (ErrException, ErrTimeout or a context error).
func (e *InvocationError) Unwrap() error { return e.Err }
