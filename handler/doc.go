// Package handler is the Couchbase Eventing JavaScript API on the shared
// JavaScript core (eventide/jsrt): bucket bindings, meta, timers,
// OnUpdate/OnDelete/OnDeploy, the advanced and sub-document accessors, and
// the Eventing rules, settings, stats, application log and code insight.
//
// Compile checks and compiles a function's JavaScript once (strict mode by
// default, constant bindings injected, the global-scope rules of Couchbase
// Eventing enforced) into a Program that every worker shares. A Worker owns
// one jsrt.Runtime for its life (its share of vbuckets keeps one key's
// events in order, so it checks out no runtime from a pool): it runs the
// Program once, then dispatches stream events to OnUpdate(doc, meta,
// xattrs) and OnDelete(meta, options), each bounded by the function's
// execution timeout, its context and its memory budget, which jsrt
// enforces. Handlers reach documents through bucket
// binding aliases, which the worker backs with the Store the caller passes to
// Handle (the node's per-batch overlay over the replicated store); the
// package knows nothing about Raft.
//
// The JavaScript API is split by area, one file each, whose installer is
// listed in apiInstallers: js_bucket.go (basic bucket accessors),
// js_meta.go (doc, meta, xattrs and the entry-point trampolines),
// js_advanced.go (couchbase.get, insert, ..., increment), js_subdoc.go,
// js_timers.go; and, over jsrt's installers, js_errors.go (EventingError,
// KVError, ...), js_log.go (log into the application log and code
// insight), js_curl.go (curl with the function's bindings, limits and
// stats) and js_builtins.go (crc64, couchbase.base64*). An area reads the
// invocation in progress (its context and Store) from Worker.inv and finds
// the binding behind an alias argument with Worker.bindingOf.
//
// Timers and OnDeploy (js_timers.go, deploy.go): createTimer and cancelTimer
// record and remove timers through the invocation's Store (committed with the
// batch); the package does not schedule them. The node's supervisor decides
// when a timer is due and calls FireTimer, which runs the named global
// callback with the timer's context under the execution timeout, and calls
// OnDeploy once per deploy or resume before any event, under
// on_deploy_timeout; a failed OnDeploy means the caller undeploys.
//
// The sub-document accessors (couchbase.mutateIn, lookupIn, bindingDetails)
// live in js_subdoc.go over the engine of eventide/docstore/subdoc;
// js_rules.go seals the global object after the first run, so no state
// survives between invocations.
//
// SQL++ (query.go, transpile.go, js_n1ql.go): Compile transpiles inline
// statements into couchbase.n1qlQuery calls line for line (n1ql.go finds
// them); N1QL(), couchbase.n1qlQuery and the deprecated N1qlQuery run them
// through the Querier the caller configures (the node adapts its query
// engine; handler does not import it), with the invocation's Store so that
// a statement reads and writes the event's batch. A worker keeps at most
// lcb_inst_capacity statements open and closes the rest when an invocation
// ends. DMLTargets gives eventing the keyspaces inline DML writes, for its
// deploy-time recursion checks. Analytics and Search are refused at Compile.
//
// A handler cannot take its node with it: jsrt's guards bound the
// built-ins whose work happens in Go, out of the timeout's reach, and its
// MemoryGuard (one per node, Config.Memory) stops an invocation that grows
// the heap past its function's budget; the worker then counts it and
// rebuilds its runtime.
//
// Line and column numbers reported to users (compile errors, exceptions in the
// application log, code insight) always refer to the user's code, whatever
// headers and constants were injected around it.
//
// Code insight (insight.go): workers given an Insight record, per user line,
// the uncaught exceptions and timeouts that ended an invocation there (count
// and last message) and the last text log() wrote from there; log() finds
// its caller's line in goja's call stack, captured into a reused buffer.
package handler
