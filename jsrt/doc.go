// Package jsrt is the JavaScript core every kind of function runs on
// (Couchbase Eventing handlers, Qinling functions, SQL++ UDF libraries):
// goja with what makes user code safe to run in a node's process. It knows
// no kind of function and imports nothing of the product.
//
// Compile once: Parse and CompileAST turn source into a *goja.Program that
// is immutable and shared by every runtime that runs it (the parser never
// follows sourceMappingURL comments, nor do eval and new Function).
//
// A Runtime (runtime.go) is one goja runtime, used by one goroutine, and
// its invocation control: between Begin(ctx) and End the invocation is
// interrupted by its timeout (a reused timer), by the end of ctx (one watch
// per distinct context, since callers run many invocations under one batch
// context) and by a MemoryGuard (memory.go) when it grows the live heap
// past its budget; InterruptCause tells which. Reset replaces the goja
// runtime (after a memory overrun, whose garbage the old one may reach);
// the installers then run again.
//
// The installers give a runtime the shared JavaScript API, in this order:
// InstallGuards (guards.go: regexp2 match limits, nesting limits of
// JSON.stringify/parse and the recursive Array built-ins, one-call
// allocations bounded by the memory budget: work done in Go that the
// timeout cannot reach, or recursion deep enough to kill the process);
// InstallErrorClasses (errorclasses.go: Couchbase-style error classes by
// name, thrown from Go with Throw); InstallLog (log.go: log(...) formatted
// in JavaScript, handed to a write func, so Eventing's application log and
// a Qinling execution log can both receive it; Describe renders an
// uncaught exception); InstallCurl (curl.go: curl() through named bindings
// with URL, auth, cookies, a response size limit and the invocation's
// deadline, outcomes counted through CurlConfig.Count); InstallBuiltins
// (builtins.go: crc64, crc_64_go_iso and the base64 helpers, on the
// namespace object the caller gives). DecodeJSON (jsondecode.go) builds
// goja values from JSON bytes as JSON.parse would, without its cost.
//
// Natives exposed to JavaScript must be called only from JavaScript:
// CallJS, Stringify, JSONText and Throw panic with JavaScript exceptions and
// interrupts, which goja passes on to the calling code.
package jsrt
