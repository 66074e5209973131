// Package jsengine runs the functions of Qinling's Node.js runtimes
// (openstackqinling/nodejs-runtime and any *nodejs* image) in goja, in the
// node's process, on the shared JavaScript core jsrt. It implements
// qinling.Engine.
//
// The contract is the Node.js runtime's (runtimes/nodejs*/server.js): the
// package is a zip of CommonJS modules; entry "module.handler" (default
// main.main) names a module of the package and one of its exports; the
// handler is called as handler(context, input), input being the execution's
// input as the JSON value it holds, and may return a value or a promise;
// the value, as JSON, is the execution's output. A thrown error, a rejected
// promise, an entry that cannot be loaded or a bad package fail the
// execution with the message as output; a timeout or a heap grown past
// memory_size stop it with Qinling's own messages. console.* and log(...)
// lines are the execution's log, between the "Start execution" and
// "Finished execution" lines the Python runtime frames its log with.
//
// Warm runtimes are kept per code key (function, version, digest, memory
// size): a set of runtimes sharing one parsed package and one module
// registry, so every module is compiled once per key. A runtime loads the
// entry module in its first invocation (as Node's server requires it on the
// first execution), so module-level state then persists across the
// invocations of that runtime, never across code keys: a new digest drops
// the old key's runtimes. A runtime interrupted by its timeout or memory
// budget is discarded. The number of runtimes is bounded per function and
// per node; when the node is full, idle runtimes of the least recently used
// functions are evicted, and a Run waits (bounded by its context) only when
// every runtime is busy.
package jsengine
