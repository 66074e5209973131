// Package eventing is the function model and the service behind the
// Couchbase-compatible eventing REST API (node/rest/eventingapi).
//
// A function is stored as a consensus.Function record whose Definition is
// this package's Definition in Couchbase's "old format" JSON (reference
// §1.9), keyed by its location string ("name", or "bucket/scope/name" for
// a function scope other than the global one). The Service validates every
// request completely (names, keyspaces, bindings, settings, code) before it
// writes, and writes with optimistic concurrency: read the record, check,
// ChangeFunction with ExpectVersion = record.Version, retry a bounded
// number of times when another writer won the race.
//
// Lifecycle: the Service moves a function into the transitional states
// (undeployed → deploying with a fresh instance; deployed → pausing;
// paused → deploying keeping checkpoints; anything running → undeploying).
// The states are consensus's (aliased here). Completing them is not the
// Service's job: each node's data plane (package eventing/dataplane)
// reports its workers started or stopped, and the replicated record moves
// deploying → deployed, pausing → paused, undeploying → undeployed (dropping
// checkpoints) once the reports allow it.
//
// What the Service says about running functions comes from two interfaces
// the node implements: Runtime, this node's data plane only, and Fleet,
// every eventing node (node counts, and stats, logs and insight gathered
// within the request's context). Per-node stats merge with
// RuntimeStats.Add.
//
// Failures are *Error values carrying a Code of Couchbase's error table
// (name, number, HTTP status); the REST layer renders them in one place.
package eventing
