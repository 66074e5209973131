package consensus

import (
	"encoding/json"

	"eventide/docstore"
)

// Function is the replicated record of one eventing function. The
// Definition is opaque to consensus (the eventing package owns its shape);
// the fields the FSM must act on are kept beside it.
type Function struct {
	Name       string          `json:"name"`
	Definition json.RawMessage `json:"definition"`
	// Source is the source keyspace (checkpoints are per vbucket of its bucket).
	Source docstore.Keyspace `json:"source"`
	// Status is the composite lifecycle state: undeployed, deploying,
	// deployed, pausing, paused, undeploying.
	Status string `json:"status"`
	// InstanceID identifies one deployment; a new one is set on each deploy
	// from undeployed. Batches carry it.
	InstanceID string `json:"instance_id,omitempty"`
	// Checkpoints[vb] is the last seqno of the source bucket's vbucket vb
	// whose effects are committed, for the current instance.
	Checkpoints []uint64 `json:"checkpoints,omitempty"`
	// Running lists (sorted) the nodes that reported, through
	// ReportFunction, that their workers run the current instance. It is
	// reset when a new instance starts or the checkpoints are dropped.
	Running []string `json:"running,omitempty"`
	// OnDeploy is "Deploy" or "Resume" while the handler's OnDeploy must
	// run (once, on one node) before any mutation is processed; "" when
	// none is pending. OnDeployDelay is the delay argument (ms paused).
	OnDeploy      string `json:"on_deploy,omitempty"`
	OnDeployDelay int64  `json:"on_deploy_delay,omitempty"`
	// PausedAt is when the function last became paused (Unix ms, the
	// leader's append time of that entry).
	PausedAt int64 `json:"paused_at,omitempty"`
	// Version is the Raft index of the last change (optimistic concurrency).
	// Checkpoint progress committed by CommitBatch and changes of Running
	// alone do not change it; a status change completed automatically
	// after a report does.
	Version uint64 `json:"version"`
}

// FunctionReport is one node's report on its workers of one function
// instance (see Store.ReportFunction).
type FunctionReport struct {
	Name       string
	InstanceID string
	// Node is the reporting node's id (normally Config.NodeID; the leader
	// may report for a node it failed over).
	Node string
	// Running: the node's workers for the instance run (true) or have
	// stopped (false).
	Running bool
}

// VBMap is the replicated vbucket map: which node's eventing workers own
// each vbucket (the same for every bucket).
type VBMap struct {
	// Epoch is the Raft index of the change that produced this map; 0 means
	// no map has been set.
	Epoch uint64 `json:"epoch"`
	// Owners[vb] is the node id owning vbucket vb ("" unassigned); its
	// length is Config.NumVBuckets once a map is set.
	Owners []string `json:"owners,omitempty"`
	// VBEpochs[vb] is the Epoch at which vbucket vb's owner last changed. A
	// worker whose ownership came from map epoch E may commit vb only if
	// VBEpochs[vb] <= E.
	VBEpochs []uint64 `json:"vb_epochs,omitempty"`
}

// FunctionChange is a conditional change of a function's record.
type FunctionChange struct {
	Name string
	// ExpectVersion must equal the record's Version (0: must not exist).
	ExpectVersion uint64
	// Definition/Source replace the stored ones when Definition is non-nil.
	// The Definition must be valid JSON.
	Definition json.RawMessage
	Source     docstore.Keyspace
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
	// OnDeploy, when non-empty ("Deploy" or "Resume"), makes the handler's
	// OnDeploy pending; "Resume" gets the time since PausedAt as its delay.
	OnDeploy string
}

// Batch is one eventing worker's committed unit: its bucket writes and the
// checkpoints they advance, applied all-or-nothing.
type Batch struct {
	Function   string
	InstanceID string
	// Node is the committing worker's node and Epoch the VBMap.Epoch its
	// ownership of the batch's vbuckets came from. Once a vbucket map is
	// set, every vbucket of Checkpoints must be owned by Node with a
	// VBEpochs entry at or below Epoch, or the batch fails whole with
	// ErrStaleOwner.
	Node  string
	Epoch uint64
	// Checkpoints maps vbucket → last processed seqno.
	Checkpoints map[uint16]uint64
	// From maps each vbucket of Checkpoints to the checkpoint the batch
	// started from. The FSM applies the batch only if the stored checkpoints
	// still equal From, so a batch is never applied twice (a retried commit
	// whose first attempt did land, or a worker that read stale state) and
	// never on top of another worker's progress: ErrCheckpointMismatch.
	From      map[uint16]uint64
	Mutations []docstore.Mutation
	// Timers are the batch's timer creations and cancellations, in order.
	Timers []TimerOp
	// Fired are the timers the batch fired: each must still be pending in
	// the version named (else ErrTimerMismatch) and its partition vbucket
	// owned like Checkpoints' (else ErrStaleOwner); they are removed.
	Fired []FiredTimer
	// OnDeployDone completes the pending OnDeploy run (else
	// ErrOnDeployDone); the batch's node must own vbucket 0, which is
	// where OnDeploy runs.
	OnDeployDone bool
}

// IndexSpec is an index to create on a collection (see Store.CreateIndex).
type IndexSpec struct {
	Keyspace docstore.Keyspace
	// Name is unique among the collection's indexes.
	Name string
	// Definition is opaque to the store: Config.IndexCompiler compiles it
	// into the index's key function. A primary index keeps it uncompiled.
	Definition []byte
	// Primary makes an index of every live document's key.
	Primary bool
	// IfNotExists makes an existing index of that name a success (nothing
	// changes, whatever its definition).
	IfNotExists bool
}

// DocResult is the outcome of one mutation of WriteDocs.
type DocResult struct {
	Doc *docstore.Document
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
