// Package subdoc is the sub-document engine: the KV sub-document API's
// operations applied to a document's JSON, with no JavaScript in it.
//
// A document (or one user xattr) is parsed into a tree (Parse) that keeps
// object key order and number text, so that an edit rewrites only what it
// touches; Encode writes it back. Paths use Couchbase's syntax (a.b[2].c,
// `quoted.name`, [-1] for the last element; ParsePath). Lookup reads a path;
// Mutate applies one mutateIn operation (Insert ... ArrayAddUnique, numbered
// as couchbase.MutateInSpec's spec_type) and reports its outcome as a Status
// named after libcouchbase's failures. Counter is the increment/decrement of
// the field count. Documents, values and paths are bounded as in KV
// (MaxDepth, MaxPathLen, MaxSpecs, MaxXattrKeyLen), which also bounds the
// recursion of the tree code.
//
// The Eventing handler's couchbase.mutateIn, lookupIn, increment and
// decrement are its first users; the query engine will be another.
package subdoc
