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
// paused → deploying keeping checkpoints; anything running → undeploying,
// dropping checkpoints). The supervisor (not this package's Service)
// completes them: deploying → deployed, pausing → paused,
// undeploying → undeployed, once the workers have started or stopped.
//
// Failures are *Error values carrying a Code of Couchbase's error table
// (name, number, HTTP status); the REST layer renders them in one place.
package eventing
