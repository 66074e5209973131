// Package ast is the syntax tree of SQL++ (N1QL) statements and expressions
// as the parser in query/parser builds them and the planner consumes them.
//
// Every node embeds Pos: where its first token starts (1-based line and
// column in characters, 0-based byte offset, counted in the statement with
// surrounding white space removed, as Couchbase counts). Positions are for
// error messages only; two trees that differ only in positions mean the
// same thing, and two expressions are the same expression exactly when
// their String() texts are equal.
//
// Literal values are plain Go values (nil for NULL, bool, int64, float64,
// string) so that this package depends on no value representation;
// MISSING is its own node.
//
// String on any node prints canonical SQL++: keywords upper case, every
// binary operator parenthesised, identifiers back-quoted only where needed,
// strings double-quoted. Parsing that text gives back the same tree (apart
// from positions), which is what lets EXPLAIN and stored index definitions
// use it.
//
// Walk and Inspect visit nodes in source order; Params lists a statement's
// parameters.
//
// The tree keeps what was written: implicit aliases are not filled in
// (ResultTerm.ImplicitAlias and KeyspaceTerm.AliasOrDefault compute them),
// function names keep their spelling (built-in names are case-insensitive),
// and nothing is resolved against a catalogue.
package ast
