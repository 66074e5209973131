// Package consensus replicates eventide's state with hashicorp/raft: the
// FSM holds keyspaces and documents (a dcp.Store), function definitions and
// lifecycle state, checkpoints and global config. Writes are group-committed:
// concurrent callers' commands are batched into one log entry.
package consensus

// This file fixes the exported API so that node can be written against it.
// Bodies are being implemented.

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"eventide/dcp"
)

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
)

// Config configures a Store.
type Config struct {
	// NodeID is the Raft server id. Required.
	NodeID string
	// DataDir holds raft.db (raft-boltdb) and snapshots/. Required.
	DataDir string
	// BindAddr is the Raft TCP listen address, e.g. "127.0.0.1:9097".
	BindAddr string
	// AdvertiseAddr is the address peers dial; default BindAddr.
	AdvertiseAddr string
	// Bootstrap makes a node with no Raft state bootstrap a one-node cluster.
	Bootstrap bool
	// NumVBuckets per bucket; default 1024.
	NumVBuckets int
	// MaxBatch is the most commands group-committed in one log entry; default 4096.
	MaxBatch int
	// SnapshotThreshold is raft's SnapshotThreshold; default 8192.
	SnapshotThreshold uint64
	// ApplyTimeout bounds one raft.Apply; default 10s.
	ApplyTimeout time.Duration
	// Logger receives raft's logs through an hclog adapter. Default discard.
	Logger *slog.Logger
}

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
	Version uint64 `json:"version"`
}

// FunctionChange is a conditional change of a function's record.
type FunctionChange struct {
	Name string
	// ExpectVersion must equal the record's Version (0: must not exist).
	ExpectVersion uint64
	// Definition/Source replace the stored ones when Definition is non-nil.
	Definition json.RawMessage
	Source     dcp.Keyspace
	// Status, when non-empty, sets the lifecycle state.
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
	Mutations   []dcp.Mutation
}

// Store is one node's replica: Raft plus the FSM.
type Store struct{}

// Open starts Raft with the FSM; bootstraps if configured and no state exists.
func Open(cfg Config) (*Store, error) { panic("unimplemented") }

// Close shuts Raft down and closes the stores.
func (s *Store) Close() error { panic("unimplemented") }

// Docs is the replica's document state, for reads.
func (s *Store) Docs() *dcp.Store { panic("unimplemented") }

// IsLeader reports whether this node is the Raft leader.
func (s *Store) IsLeader() bool { panic("unimplemented") }

// Leader returns the leader's server id and address ("" if unknown).
func (s *Store) Leader() (id, addr string) { panic("unimplemented") }

// WaitLeader blocks until some node is leader or ctx ends.
func (s *Store) WaitLeader(ctx context.Context) error { panic("unimplemented") }

// Changed returns a channel closed at the next change of function records
// or config (edge-triggered wake-up for the supervisor).
func (s *Store) Changed() <-chan struct{} { panic("unimplemented") }

// CreateBucket, DeleteBucket, CreateScope, DeleteScope, CreateCollection and
// DeleteCollection replicate keyspace changes; errors are dcp's sentinels.
func (s *Store) CreateBucket(ctx context.Context, spec dcp.BucketSpec) error { panic("unimplemented") }
func (s *Store) DeleteBucket(ctx context.Context, name string) error        { panic("unimplemented") }
func (s *Store) CreateScope(ctx context.Context, bucket, scope string) error {
	panic("unimplemented")
}
func (s *Store) DeleteScope(ctx context.Context, bucket, scope string) error {
	panic("unimplemented")
}
func (s *Store) CreateCollection(ctx context.Context, ks dcp.Keyspace) error { panic("unimplemented") }
func (s *Store) DeleteCollection(ctx context.Context, ks dcp.Keyspace) error { panic("unimplemented") }

// DocResult is the outcome of one mutation of WriteDocs.
type DocResult struct {
	Doc *dcp.Document
	Err error
}

// WriteDocs applies each mutation independently (one may fail, the others
// still apply), group-committed with other callers' writes.
func (s *Store) WriteDocs(ctx context.Context, ms []dcp.Mutation) ([]DocResult, error) {
	panic("unimplemented")
}

// Functions lists function records sorted by name.
func (s *Store) Functions() []Function { panic("unimplemented") }

// Function returns one record or ErrFunctionNotFound.
func (s *Store) Function(name string) (Function, error) { panic("unimplemented") }

// ChangeFunction applies a conditional change and returns the new record.
func (s *Store) ChangeFunction(ctx context.Context, c FunctionChange) (Function, error) {
	panic("unimplemented")
}

// DeleteFunction removes a record if its Version equals expectVersion.
func (s *Store) DeleteFunction(ctx context.Context, name string, expectVersion uint64) error {
	panic("unimplemented")
}

// CommitBatch applies a batch all-or-nothing: ErrStaleInstance if the
// function's instance differs or is not in deploying/deployed/pausing;
// a *dcp.BatchError if a mutation's precondition fails. It returns after
// this node's FSM applied it.
func (s *Store) CommitBatch(ctx context.Context, b Batch) ([]*dcp.Document, error) {
	panic("unimplemented")
}

// Config returns a replicated config value (nil if unset).
func (s *Store) Config(key string) json.RawMessage { panic("unimplemented") }

// SetConfig replicates a config value.
func (s *Store) SetConfig(ctx context.Context, key string, value json.RawMessage) error {
	panic("unimplemented")
}

// Expire replicates the expiry of every document due at now (the leader's
// expiry pager calls it).
func (s *Store) Expire(ctx context.Context, now time.Time) (int, error) { panic("unimplemented") }
