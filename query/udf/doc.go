// Package udf keeps SQL++ user-defined functions and runs the JavaScript
// ones: it implements engine.Functions.
//
// Definitions are replicated records (table "query.functions", one per
// function, keyed by its full name), written conditionally on their
// versions like query/library's, so CREATE and DROP through any node agree
// and any node reads them from its own replica.
//
// JavaScript functions run on jsrt runtimes kept warm per compiled
// program: a library function's program comes from query/library (one
// per library version), an inline function's code is compiled here. A
// runtime runs its program once, then serves many calls of its global
// functions, one at a time; a newer library version gets fresh runtimes
// and the old ones are closed. Errors have Couchbase's codes and messages
// (10101 missing, 10102 duplicate, 10109 execution, ...), as *Error, which
// unwraps to an *engine.Error.
package udf
