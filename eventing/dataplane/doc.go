// Package dataplane runs eventing functions on one node: the Supervisor
// follows the replicated function records, starts and stops each deployed
// function's workers, and reports them so that the records' lifecycle
// transitions complete; each worker streams its vbuckets' mutations from a
// Source, runs the handler over a batch against an overlay of the batch's
// own writes, and commits the batch's writes, timer changes and new
// checkpoints in one command through a Sink.
//
// It owns the exactly-once protocol (DESIGN.md), the per-node counters,
// code insight and application logs of the functions it runs (the
// Supervisor is the node's eventing.Runtime), and nothing of the function
// model: definitions, settings and the lifecycle service are package
// eventing's.
//
// The interfaces it consumes are declared here: Records (function records,
// reports, vbucket ownership), Source (per-vbucket streams from a seqno,
// with a wake-up, and document reads) and Sink (batch commit with
// checkpoints and timers). The node wires the embedded backend, in which
// *consensus.Store is Records and Sink and its *docstore.Store is Source;
// a backend over a Couchbase Server cluster would supply its own Source
// and Sink without a change to the workers.
package dataplane
