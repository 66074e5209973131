// Package eventingtest runs the tests of the eventing service and of its
// REST API against the real replicated store: a single-node Raft store on
// raft's in-memory transport (consensus.OpenSingle), so that lifecycle
// transitions, from_now boundaries and conditional writes are the FSM's
// own. Where a test needs what the data plane would do, the Store does it
// through the same commands the supervisor and its workers use (Settle,
// CommitCheckpoints). Fleet and Runtime are settable stand-ins for what
// the node reports about its workers and the other nodes.
package eventingtest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/eventing"
	"eventide/handler"
)

// Node is the id of the store's single node, the one Settle reports for.
const Node = "n1"

// Store is a single-node consensus store. It satisfies eventing.Backend
// (with a fault-injection hook on ChangeFunction); its Docs satisfy
// eventing.Keyspaces.
type Store struct {
	*consensus.Store

	// BeforeChange, when set, runs before each ChangeFunction is proposed;
	// a non-nil error is returned instead. Tests use it to inject races
	// (a real write from inside the hook) and failures.
	BeforeChange func(c consensus.FunctionChange) error
}

// NewStore opens a leading single-node store with numVBs vbuckets per
// bucket, closed when the test ends, holding the given keyspaces (see
// CreateKeyspace).
func NewStore(t testing.TB, numVBs int, keyspaces ...string) *Store {
	t.Helper()
	cs, err := consensus.OpenSingle(consensus.Config{
		NodeID:      Node,
		DataDir:     t.TempDir(),
		NumVBuckets: numVBs,
	})
	if err != nil {
		t.Fatalf("eventingtest: open store: %v", err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	s := &Store{Store: cs}
	for _, ks := range keyspaces {
		s.CreateKeyspace(t, ks)
	}
	return s
}

// ChangeFunction runs BeforeChange, then the store's ChangeFunction.
func (s *Store) ChangeFunction(ctx context.Context, c consensus.FunctionChange) (consensus.Function, error) {
	if hook := s.BeforeChange; hook != nil {
		if err := hook(c); err != nil {
			return consensus.Function{}, err
		}
	}
	return s.Store.ChangeFunction(ctx, c)
}

func testCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

// CreateKeyspace creates "bucket" (with its _default collection) or
// "bucket.scope.collection", and whatever of its bucket and scope is
// missing.
func (s *Store) CreateKeyspace(t testing.TB, keyspace string) {
	t.Helper()
	ks, err := docstore.ParseKeyspace(keyspace)
	if err != nil {
		t.Fatalf("eventingtest: keyspace %q: %v", keyspace, err)
	}
	ctx, cancel := testCtx()
	defer cancel()
	// CheckKeyspace names the first missing level: create from there down.
	err = s.Docs().CheckKeyspace(ks)
	if errors.Is(err, docstore.ErrBucketNotFound) {
		if err := s.CreateBucket(ctx, docstore.BucketSpec{Name: ks.Bucket, UUID: ks.Bucket + "-uuid", Type: "membase"}); err != nil {
			t.Fatalf("eventingtest: create bucket %s: %v", ks.Bucket, err)
		}
		err = s.Docs().CheckKeyspace(ks)
	}
	if errors.Is(err, docstore.ErrScopeNotFound) {
		if err := s.CreateScope(ctx, ks.Bucket, ks.Scope); err != nil {
			t.Fatalf("eventingtest: create scope %s.%s: %v", ks.Bucket, ks.Scope, err)
		}
		err = s.Docs().CheckKeyspace(ks)
	}
	if errors.Is(err, docstore.ErrCollectionNotFound) {
		if err := s.CreateCollection(ctx, ks); err != nil {
			t.Fatalf("eventingtest: create collection %s: %v", ks, err)
		}
	}
}

// DropBucket deletes a bucket and everything in it.
func (s *Store) DropBucket(t testing.TB, bucket string) {
	t.Helper()
	ctx, cancel := testCtx()
	defer cancel()
	if err := s.DeleteBucket(ctx, bucket); err != nil {
		t.Fatalf("eventingtest: delete bucket %s: %v", bucket, err)
	}
}

// Report records, as this node's supervisor does, whether the function's
// current instance has its workers running here; the FSM completes a
// pending transition when the reports allow it. It returns the record.
func (s *Store) Report(t testing.TB, name string, running bool) consensus.Function {
	t.Helper()
	f, err := s.Function(name)
	if err != nil {
		t.Fatalf("eventingtest: report %s: %v", name, err)
	}
	ctx, cancel := testCtx()
	defer cancel()
	f, err = s.ReportFunction(ctx, consensus.FunctionReport{Name: name, InstanceID: f.InstanceID, Node: Node, Running: running})
	if err != nil {
		t.Fatalf("eventingtest: report %s: %v", name, err)
	}
	return f
}

// Settle completes the function's pending transition the way this node's
// supervisor does: it reports the instance's workers running
// (deploying → deployed) or stopped (pausing → paused, undeploying →
// undeployed). It returns the new record.
func (s *Store) Settle(t testing.TB, name string) consensus.Function {
	t.Helper()
	f, err := s.Function(name)
	if err != nil {
		t.Fatalf("eventingtest: settle %s: %v", name, err)
	}
	switch f.Status {
	case consensus.StatusDeploying:
		f = s.Report(t, name, true)
	case consensus.StatusPausing, consensus.StatusUndeploying:
		f = s.Report(t, name, false)
	default:
		t.Fatalf("eventingtest: settle %s: status %q is not transitional", name, f.Status)
	}
	if f.Status != consensus.StatusDeployed && f.Status != consensus.StatusPaused && f.Status != consensus.StatusUndeployed {
		t.Fatalf("eventingtest: settle %s: still %s after the report", name, f.Status)
	}
	return f
}

// Touch makes a concurrent writer's change of the function that leaves
// the record as it is but for its version.
func (s *Store) Touch(t testing.TB, name string) {
	t.Helper()
	f, err := s.Function(name)
	if err != nil {
		t.Fatalf("eventingtest: touch %s: %v", name, err)
	}
	ctx, cancel := testCtx()
	defer cancel()
	if _, err := s.Store.ChangeFunction(ctx, consensus.FunctionChange{Name: name, ExpectVersion: f.Version}); err != nil {
		t.Fatalf("eventingtest: touch %s: %v", name, err)
	}
}

// CommitCheckpoints moves the function's checkpoints to cps (one per
// vbucket) with a checkpoint-only batch, as a worker commits one.
func (s *Store) CommitCheckpoints(t testing.TB, name string, cps []uint64) {
	t.Helper()
	f, err := s.Function(name)
	if err != nil {
		t.Fatalf("eventingtest: checkpoints of %s: %v", name, err)
	}
	b := consensus.Batch{
		Function: name, InstanceID: f.InstanceID, Node: Node, Epoch: s.VBMap().Epoch,
		Checkpoints: map[uint16]uint64{}, From: map[uint16]uint64{},
	}
	for vb, seq := range cps {
		b.Checkpoints[uint16(vb)] = seq
		b.From[uint16(vb)] = f.Checkpoints[vb]
	}
	ctx, cancel := testCtx()
	defer cancel()
	if _, err := s.CommitBatch(ctx, b); err != nil {
		t.Fatalf("eventingtest: checkpoints of %s: %v", name, err)
	}
}

// Snapshot is a copy of what the eventing service can change, comparable
// with reflect.DeepEqual to prove that a rejected request changed nothing.
type Snapshot struct {
	Functions []consensus.Function
	// GlobalConfig is the stored eventing config.
	GlobalConfig string
	// AppliedIndex moves with any write at all.
	AppliedIndex uint64
}

// Snapshot copies the state.
func (s *Store) Snapshot() Snapshot {
	return Snapshot{
		Functions:    s.Functions(),
		GlobalConfig: string(s.Config(eventing.GlobalConfigKey)),
		AppliedIndex: s.Stats().AppliedIndex,
	}
}

// Fleet is a settable eventing.Fleet: Nodes live nodes, Deployed running
// nodes per function, NodeLogs per-node log texts; counters come from
// Runtime, as the only node that has any.
type Fleet struct {
	mu       sync.Mutex
	Nodes    int
	Deployed map[string]int
	// NodeLogs holds each node's log text per function, for AppLogs; Sizes
	// records the per-node sizes requested.
	NodeLogs map[string][]string
	Sizes    []int
	// Runtime answers Stats, ResetStats and Insight; nil: no counters.
	Runtime *Runtime
}

var _ eventing.Fleet = (*Fleet)(nil)

// EventingNodes returns Nodes.
func (c *Fleet) EventingNodes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Nodes
}

// DeployedNodes returns Deployed[fn].
func (c *Fleet) DeployedNodes(fn string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Deployed[fn]
}

// Stats returns Runtime's counters of fn.
func (c *Fleet) Stats(_ context.Context, fn string) (eventing.RuntimeStats, bool) {
	if c.Runtime == nil {
		return eventing.RuntimeStats{}, false
	}
	return c.Runtime.Stats(fn)
}

// ResetStats resets Runtime's counters of fn.
func (c *Fleet) ResetStats(_ context.Context, fn string) error {
	if c.Runtime == nil {
		return nil
	}
	return c.Runtime.ResetStats(fn)
}

// AppLogs returns every node's text for fn, each cut to its last
// sizePerNode bytes.
func (c *Fleet) AppLogs(_ context.Context, fn string, sizePerNode int) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Sizes = append(c.Sizes, sizePerNode)
	var out []string
	for _, t := range c.NodeLogs[fn] {
		out = append(out, tail(t, sizePerNode))
	}
	return out, nil
}

// Insight returns Runtime's insight of each of fns; every node answers.
func (c *Fleet) Insight(_ context.Context, fns []string) (map[string]map[int]handler.InsightLine, []string, error) {
	out := make(map[string]map[int]handler.InsightLine, len(fns))
	for _, fn := range fns {
		out[fn] = map[int]handler.InsightLine{}
		if c.Runtime != nil {
			out[fn] = c.Runtime.Insight(fn)
		}
	}
	return out, nil, nil
}

// tail returns the last size bytes of t, starting at a line boundary.
func tail(t string, size int) string {
	if len(t) <= size {
		return t
	}
	t = t[len(t)-size:]
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		return t[i+1:]
	}
	return ""
}

// Runtime is a settable eventing.Runtime.
type Runtime struct {
	mu      sync.Mutex
	stats   map[string]eventing.RuntimeStats
	logs    map[string]string
	insight map[string]map[int]handler.InsightLine
	resets  []string
}

var _ eventing.Runtime = (*Runtime)(nil)

// NewRuntime returns an empty runtime.
func NewRuntime() *Runtime {
	return &Runtime{stats: map[string]eventing.RuntimeStats{}, logs: map[string]string{}, insight: map[string]map[int]handler.InsightLine{}}
}

// SetStats sets a function's counters (marking it running here).
func (r *Runtime) SetStats(fn string, s eventing.RuntimeStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.stats[fn] = s
}

// SetLog sets a function's log text.
func (r *Runtime) SetLog(fn, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs[fn] = text
}

// SetInsight sets a function's code insight.
func (r *Runtime) SetInsight(fn string, lines map[int]handler.InsightLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.insight[fn] = maps.Clone(lines)
}

// Resets lists the functions whose counters were reset, in order.
func (r *Runtime) Resets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.resets)
}

// Stats implements eventing.Runtime.
func (r *Runtime) Stats(fn string) (eventing.RuntimeStats, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.stats[fn]
	return s, ok
}

// ResetStats implements eventing.Runtime.
func (r *Runtime) ResetStats(fn string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.resets = append(r.resets, fn)
	delete(r.stats, fn)
	return nil
}

// AppLog implements eventing.Runtime.
func (r *Runtime) AppLog(_ context.Context, fn string, size int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tail(r.logs[fn], size), nil
}

// Insight implements eventing.Runtime.
func (r *Runtime) Insight(fn string) map[int]handler.InsightLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := maps.Clone(r.insight[fn])
	if out == nil {
		out = map[int]handler.InsightLine{}
	}
	return out
}
