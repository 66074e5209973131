// Package funcs is the library of SQL++ (N1QL) built-in scalar functions:
// string, number, array, object, type checking and conversion, conditional,
// date and miscellaneous families, looked up by name case-insensitively
// with Couchbase's aliases.
//
// Every function follows Couchbase's rule unless its family says otherwise
// (the conditional and type functions exist to look at MISSING and NULL):
// any MISSING argument gives MISSING, else any NULL or wrongly typed
// argument gives NULL. Aggregates and META() are not here: the executor
// owns them.
//
// A Context carries the statement's instant, so NOW_* give the same time
// throughout one statement, and the default time zone.
package funcs
