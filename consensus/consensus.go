// Package consensus replicates eventide's state with hashicorp/raft: the
// FSM holds keyspaces and documents (a dcp.Store), function definitions and
// lifecycle state, checkpoints and global config. Writes are group-committed:
// concurrent callers' commands are batched into one log entry.
//
// The write path: a public write method encodes a command (carrying every
// time-dependent choice, such as the CAS base, made here on the proposer),
// the batcher groups commands of concurrent callers into one Raft log
// entry, and the FSM applies the entry's commands in order, returning one
// result per command, which the batcher hands back to each caller. A write
// method returns after this node's FSM applied the entry, so a caller reads
// its own writes from Docs, Functions or Config right away.
//
// The FSM is deterministic: it reads no clock, draws no random numbers and
// writes nothing in map-iteration order, and it never panics on input.
package consensus

import "errors"

// Sentinel errors.
var (
	// ErrNotLeader: this node is not the Raft leader (forwarding comes later).
	ErrNotLeader = errors.New("consensus: not leader")
	// ErrClosed: the store is shut down.
	ErrClosed = errors.New("consensus: closed")
	// ErrVersionMismatch: an optimistic-concurrency check on a function failed.
	ErrVersionMismatch = errors.New("consensus: version mismatch")
	// ErrFunctionNotFound: no function of that name.
	ErrFunctionNotFound = errors.New("consensus: function not found")
	// ErrFunctionExists: PutFunction with ExpectVersion 0 found one.
	ErrFunctionExists = errors.New("consensus: function exists")
	// ErrStaleInstance: a batch names a function instance that is no longer
	// processing (undeployed, redeployed, or paused), so it is dropped whole.
	ErrStaleInstance = errors.New("consensus: stale function instance")
	// ErrCheckpointMismatch: a batch's From checkpoints differ from the
	// stored ones (it was already applied, or was built on stale state).
	ErrCheckpointMismatch = errors.New("consensus: checkpoint mismatch")
	// ErrInvalid: a request is malformed (bad name, status, boundary,
	// checkpoint vbucket, non-JSON value, ...) or a log entry or snapshot
	// cannot be decoded.
	ErrInvalid = errors.New("consensus: invalid request")
	// ErrTooLarge: one command exceeds the largest log entry accepted.
	ErrTooLarge = errors.New("consensus: command too large")
	// ErrLeadershipLost: leadership was lost while a write was in flight;
	// it may or may not have been applied (re-read before retrying).
	ErrLeadershipLost = errors.New("consensus: leadership lost, outcome unknown")
)
