package consensus

import (
	"encoding/json"

	"eventide/dcp"
)

// Function is the replicated record of one eventing function. The
// Definition is opaque to consensus (the eventing package owns its shape);
// the fields the FSM must act on are kept beside it.
type Function struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
	// Source is the source keyspace (checkpoints are per vbucket of its bucket).
	Source dcp.Keyspace `json:"source"`
	// Status is the composite lifecycle state: undeployed, deploying,
	// deployed, pausing, paused, undeploying.
	Status string `json:"status"`
	// InstanceID identifies one deployment; a new one is set on each deploy
	// from undeployed. Batches carry it.
	InstanceID string `json:"instance_id,omitempty"`
	// Checkpoints[vb] is the last seqno of the source bucket's vbucket vb
	// whose effects are committed, for the current instance.
	Checkpoints []uint64 `json:"checkpoints,omitempty"`
	// Version is the Raft index of the last change (optimistic concurrency).
	// Checkpoint progress committed by CommitBatch does not change it.
	Version uint64 `json:"version"`
}

// FunctionChange is a conditional change of a function's record.
type FunctionChange struct {
	Name string
	// ExpectVersion must equal the record's Version (0: must not exist).
	ExpectVersion uint64
	// Definition/Source replace the stored ones when Definition is non-nil.
	// The Definition must be valid JSON.
	Definition json.RawMessage
	Source     dcp.Keyspace
	// Status, when non-empty, sets the lifecycle state (a Status* constant).
	// A new record without one starts undeployed.
	Status string
	// NewInstanceID, when non-empty, starts a new instance; its checkpoints
	// are initialised per Boundary: "everything" all 0, "from_now" the
	// source bucket's current high seqnos (read inside the FSM).
	NewInstanceID string
	Boundary      string
	// DropCheckpoints clears the instance and its checkpoints (undeploy).
	DropCheckpoints bool
}

// Batch is one eventing worker's committed unit: its bucket writes and the
// checkpoints they advance, applied all-or-nothing.
type Batch struct {
	Function   string
	InstanceID string
	// Checkpoints maps vbucket → last processed seqno.
	Checkpoints map[uint16]uint64
	// From maps each vbucket of Checkpoints to the checkpoint the batch
	// started from. The FSM applies the batch only if the stored checkpoints
	// still equal From, so a batch is never applied twice (a retried commit
	// whose first attempt did land, or a worker that read stale state) and
	// never on top of another worker's progress: ErrCheckpointMismatch.
	From      map[uint16]uint64
	Mutations []dcp.Mutation
}

// DocResult is the outcome of one mutation of WriteDocs.
type DocResult struct {
	Doc *dcp.Document
	Err error
}

// Suffrage values of Server.
const (
	SuffrageVoter    = "voter"
	SuffrageNonvoter = "nonvoter"
	SuffrageStaging  = "staging"
)

// Server is one member of the Raft configuration.
type Server struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	// Suffrage is SuffrageVoter, SuffrageNonvoter or SuffrageStaging.
	Suffrage string `json:"suffrage"`
}

// Stats are counters of this node's replica.
type Stats struct {
	// AppliedIndex is the last Raft log index applied by this node's FSM.
	AppliedIndex uint64
	// Entries is the number of command log entries applied since Open
	// (replayed ones included), Commands the commands they carried: with
	// group commit Commands/Entries is the average batch size.
	Entries  uint64
	Commands uint64
}
