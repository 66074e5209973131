// Package consensus replicates eventide's state with hashicorp/raft: the
// FSM holds keyspaces and documents (a docstore.Store), function definitions and
// lifecycle state, checkpoints and global config. Writes are group-committed:
// concurrent callers' commands are batched into one log entry.
//
// The write path: a public write method encodes a command (carrying every
// time-dependent choice, such as the CAS base, made here on the proposer),
// the batcher groups commands of concurrent callers into one Raft log
// entry, and the FSM applies the entry's commands in order, returning one
// result per command, which the batcher hands back to each caller. A write
// method returns after this node's FSM applied the entry, so a caller reads
// its own writes from Docs, Functions or Config right away. Each kind of
// command is an entry of one table (command.go) whose encoding and effect
// live in its replicated domain's file (cmd_*.go).
//
// Every node accepts writes: a follower's batcher hands its framed entry to
// Config.Forwarder, which sends it to the leader's ApplyEntry. Entries carry
// a token (proposing node, session, sequence), so the follower learns its
// commands' results from its own FSM applying its own entry, and an entry
// resent after an unknown outcome is applied once (see DESIGN.md).
//
// The FSM is deterministic: it reads no clock, draws no random numbers and
// writes nothing in map-iteration order, and it never panics on input.
package consensus

import "errors"

// Sentinel errors.
var (
	// ErrNotLeader: this node is not the Raft leader. Writes return it on a
	// follower only when no Config.Forwarder is set; ApplyEntry and the
	// membership calls return it on any follower.
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
	// ErrLeadershipLost: the outcome of a write is unknown to this node: it
	// may or may not have been applied (re-read before retrying). Without
	// a Forwarder, leadership was lost while it was in flight; with one, the
	// store closed while it was being forwarded, or this node caught up past
	// it from a snapshot, which carries no per-write results.
	ErrLeadershipLost = errors.New("consensus: leadership lost, outcome unknown")
	// ErrStaleOwner: a batch names a vbucket that its node does not own in
	// the current vbucket map, or whose ownership changed after the map
	// epoch the batch's worker acted on; the batch is dropped whole.
	ErrStaleOwner = errors.New("consensus: stale vbucket owner")
	// ErrTimerMismatch: a batch fires a timer that is no longer pending in
	// the version it names (cancelled, overwritten or fired meanwhile); the
	// batch is dropped whole and its worker re-reads the due timers.
	ErrTimerMismatch = errors.New("consensus: timer no longer pending")
	// ErrOnDeployDone: a batch completes an OnDeploy run that is not pending
	// (another node's run completed it, or the instance moved on).
	ErrOnDeployDone = errors.New("consensus: OnDeploy not pending")
	// ErrRecordExists: a record change creating a record (ExpectVersion
	// 0) found one.
	ErrRecordExists = errors.New("consensus: record exists")
	// ErrRecordNotFound: no record of that table and id.
	ErrRecordNotFound = errors.New("consensus: record not found")
	// ErrRecordVersion: a record change's ExpectVersion is not the
	// record's Version (another writer changed it first).
	ErrRecordVersion = errors.New("consensus: record version mismatch")
)
