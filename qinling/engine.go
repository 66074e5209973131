package qinling

import (
	"context"
	"encoding/json"
	"time"
)

// Code is what an engine needs to run one version of a function. Package
// and Entry never change for a given (FunctionID, Version, Digest), so an
// engine may keep warm workers keyed by them.
type Code struct {
	FunctionID string
	// Version is the function version the code belongs to (0: the
	// function's latest code).
	Version int
	// Digest is the package's md5 (hex) as Qinling reports it; it changes
	// whenever the latest code is updated, so warm workers of old code are
	// never reused.
	Digest string
	// Package is the function's zip (the engine's to read, never to keep
	// mutated); empty for an image function.
	Package []byte
	// Entry is Qinling's "module.function" (Python default main.main,
	// Node.js module.handler).
	Entry string
	// Image is the container image of an image function, or the
	// runtime's image for a package function.
	Image string
	// Timeout bounds one execution; MemoryBytes and CPUMillis are the
	// function's memory_size and cpu.
	Timeout     time.Duration
	MemoryBytes int64
	CPUMillis   int64
}

// Invocation is one execution's call.
type Invocation struct {
	ExecutionID string
	ProjectID   string
	// Input is the execution's input as JSON (an object, or any JSON
	// value); nil means none.
	Input json.RawMessage
}

// Result is an execution's outcome, as Qinling records it: result is
// {"duration": Duration in seconds, "output": Output}.
type Result struct {
	Success bool
	// Output is the function's return value as JSON, or on failure a JSON
	// string holding the error message.
	Output json.RawMessage
	// Log is what the function printed, with the engine's framing lines.
	Log      string
	Duration time.Duration
}

// PoolInfo is an engine's warm-worker capacity, as GET
// /v1/runtimes/{id}/pool reports it.
type PoolInfo struct {
	Total     int
	Available int
}

// Engine runs functions of one family of runtimes (JavaScript in goja,
// python3 worker processes, containers). It is declared here, where it is
// consumed; its implementations live in their own packages.
type Engine interface {
	// Run executes code once with inv. A failure of the function (an
	// exception, a timeout, a memory overrun) is a Result with Success
	// false; an error means the engine could not run it at all (for
	// example python3 is missing), which the execution also records as a
	// failure with the error's message.
	Run(ctx context.Context, code Code, inv Invocation) (Result, error)
	// Scale sets how many warm workers the function's code keeps (at
	// least 0). code is the function's latest code, so the engine can make
	// them before that code first runs; Detach drops them all.
	Scale(code Code, workers int)
	Detach(functionID string)
	// Workers names the warm workers (idle or busy) this engine holds for
	// one version of the function (0: its latest code), sorted; none is
	// nil.
	Workers(functionID string, version int) []string
	// Pool reports the engine's warm-worker capacity.
	Pool() PoolInfo
	// Available reports whether the engine can run anything on this node,
	// and why not.
	Available() error
	// Close stops every worker.
	Close() error
}

// Fleet is what the service asks of the other nodes of the cluster. It is
// declared here, where it is consumed; node implements it over its gRPC
// between nodes.
type Fleet interface {
	// Workers returns the warm workers each other live node holds for
	// version (0: the latest code) of the function, by node id, as their
	// Service.LocalWorkers names them. It is best-effort, as Qinling's
	// pods are: a node that does not answer within a short deadline is
	// left out (and logged by the implementation).
	Workers(ctx context.Context, functionID string, version int) map[string][]string
}
