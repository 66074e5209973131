// Package eventingtest provides in-memory implementations of the
// eventing.Service dependencies (Backend, Keyspaces, Cluster, Runtime) for
// tests of the eventing and eventingapi packages. Backend mirrors the
// conditional-write semantics of *consensus.Store.
package eventingtest

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/eventing"
)

// Backend is an in-memory eventing.Backend. The zero value is not usable;
// call NewBackend.
type Backend struct {
	mu      sync.Mutex
	funcs   map[string]consensus.Function
	config  map[string]json.RawMessage
	index   uint64
	numVBs  int
	changes int

	// BeforeChange, when set, runs (without the lock held) before each
	// ChangeFunction is applied; a non-nil error is returned instead. Tests
	// use it to inject races and failures.
	BeforeChange func(c consensus.FunctionChange) error
}

// NewBackend returns an empty backend whose sources have numVBs vbuckets.
func NewBackend(numVBs int) *Backend {
	return &Backend{funcs: map[string]consensus.Function{}, config: map[string]json.RawMessage{}, numVBs: numVBs}
}

// clone deep-copies a record.
func clone(f consensus.Function) consensus.Function {
	f.Definition = slices.Clone(f.Definition)
	f.Checkpoints = slices.Clone(f.Checkpoints)
	return f
}

// Functions lists records sorted by name.
func (b *Backend) Functions() []consensus.Function {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := slices.Sorted(maps.Keys(b.funcs))
	out := make([]consensus.Function, 0, len(names))
	for _, n := range names {
		out = append(out, clone(b.funcs[n]))
	}
	return out
}

// Function returns one record or consensus.ErrFunctionNotFound.
func (b *Backend) Function(name string) (consensus.Function, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.funcs[name]
	if !ok {
		return consensus.Function{}, consensus.ErrFunctionNotFound
	}
	return clone(f), nil
}

// ChangeFunction applies a conditional change.
func (b *Backend) ChangeFunction(ctx context.Context, c consensus.FunctionChange) (consensus.Function, error) {
	if hook := b.BeforeChange; hook != nil {
		if err := hook(c); err != nil {
			return consensus.Function{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return consensus.Function{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f, exists := b.funcs[c.Name]
	switch {
	case c.ExpectVersion == 0 && exists:
		return consensus.Function{}, consensus.ErrFunctionExists
	case c.ExpectVersion != 0 && !exists:
		return consensus.Function{}, consensus.ErrFunctionNotFound
	case exists && f.Version != c.ExpectVersion:
		return consensus.Function{}, consensus.ErrVersionMismatch
	}
	if !exists {
		f = consensus.Function{Name: c.Name}
	}
	if c.Definition != nil {
		f.Definition = slices.Clone(c.Definition)
		f.Source = c.Source
	}
	if c.Status != "" {
		f.Status = c.Status
	}
	if c.DropCheckpoints {
		f.InstanceID = ""
		f.Checkpoints = nil
	}
	if c.NewInstanceID != "" {
		f.InstanceID = c.NewInstanceID
		f.Checkpoints = make([]uint64, b.numVBs)
		if c.Boundary == eventing.BoundaryFromNow {
			for i := range f.Checkpoints {
				f.Checkpoints[i] = 100 // stands for "current high seqno"
			}
		}
	}
	b.index++
	b.changes++
	f.Version = b.index
	b.funcs[c.Name] = f
	return clone(f), nil
}

// DeleteFunction removes a record if its Version equals expectVersion.
func (b *Backend) DeleteFunction(ctx context.Context, name string, expectVersion uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.funcs[name]
	if !ok {
		return consensus.ErrFunctionNotFound
	}
	if f.Version != expectVersion {
		return consensus.ErrVersionMismatch
	}
	delete(b.funcs, name)
	b.index++
	b.changes++
	return nil
}

// Config returns a config value (nil if unset).
func (b *Backend) Config(key string) json.RawMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.config[key])
}

// SetConfig stores a config value.
func (b *Backend) SetConfig(ctx context.Context, key string, value json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.config[key] = slices.Clone(value)
	b.index++
	b.changes++
	return nil
}

// SetStatus moves a function to status as the supervisor would
// (deploying → deployed, ...), bypassing validation.
func (b *Backend) SetStatus(name, status string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.funcs[name]
	if !ok {
		panic("eventingtest: SetStatus of unknown function " + name)
	}
	f.Status = status
	if status == eventing.StatusUndeployed {
		f.InstanceID, f.Checkpoints = "", nil
	}
	b.index++
	f.Version = b.index
	b.funcs[name] = f
}

// SetCheckpoints replaces a function's checkpoints (as worker batches do).
func (b *Backend) SetCheckpoints(name string, cps []uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.funcs[name]
	f.Checkpoints = slices.Clone(cps)
	b.index++
	f.Version = b.index
	b.funcs[name] = f
}

// Changes counts the successful writes so far.
func (b *Backend) Changes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.changes
}

// Snapshot is a deep copy of the backend's state, comparable with
// reflect.DeepEqual to prove that a rejected request changed nothing.
type Snapshot struct {
	Functions map[string]consensus.Function
	Config    map[string]string
	Index     uint64
}

// Snapshot copies the state.
func (b *Backend) Snapshot() Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Snapshot{Functions: map[string]consensus.Function{}, Config: map[string]string{}, Index: b.index}
	for k, f := range b.funcs {
		s.Functions[k] = clone(f)
	}
	for k, v := range b.config {
		s.Config[k] = string(v)
	}
	return s
}

// Keyspaces is an in-memory eventing.Keyspaces.
type Keyspaces struct {
	mu      sync.Mutex
	buckets map[string]map[string]map[string]bool // bucket → scope → collection
}

// NewKeyspaces returns a checker knowing the given keyspaces, each
// "bucket" (its _default collection) or "bucket.scope.collection".
func NewKeyspaces(keyspaces ...string) *Keyspaces {
	k := &Keyspaces{buckets: map[string]map[string]map[string]bool{}}
	for _, s := range keyspaces {
		k.Add(s)
	}
	return k
}

// Add creates a keyspace ("bucket" or "bucket.scope.collection").
func (k *Keyspaces) Add(keyspace string) {
	ks, err := docstore.ParseKeyspace(keyspace)
	if err != nil {
		panic(err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.buckets[ks.Bucket] == nil {
		k.buckets[ks.Bucket] = map[string]map[string]bool{docstore.DefaultScope: {docstore.DefaultCollection: true}}
	}
	if k.buckets[ks.Bucket][ks.Scope] == nil {
		k.buckets[ks.Bucket][ks.Scope] = map[string]bool{}
	}
	k.buckets[ks.Bucket][ks.Scope][ks.Collection] = true
}

// DropBucket removes a bucket and everything in it.
func (k *Keyspaces) DropBucket(bucket string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.buckets, bucket)
}

// CheckKeyspace returns nil or dcp's precise not-found error.
func (k *Keyspaces) CheckKeyspace(ks docstore.Keyspace) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	scopes, ok := k.buckets[ks.Bucket]
	if !ok {
		return docstore.ErrBucketNotFound
	}
	cols, ok := scopes[ks.Scope]
	if !ok {
		return docstore.ErrScopeNotFound
	}
	if !cols[ks.Collection] {
		return docstore.ErrCollectionNotFound
	}
	return nil
}

// Cluster is a settable eventing.Cluster that also aggregates application
// logs from per-node texts.
type Cluster struct {
	mu       sync.Mutex
	Nodes    int
	Deployed map[string]int
	// NodeLogs holds each node's log text per function, for
	// AggregateAppLog; Sizes records the per-node sizes requested.
	NodeLogs map[string][]string
	Sizes    []int
}

// EventingNodes returns Nodes.
func (c *Cluster) EventingNodes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Nodes
}

// DeployedNodes returns Deployed[fn].
func (c *Cluster) DeployedNodes(fn string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Deployed[fn]
}

// AggregateAppLog returns every node's text for fn, each cut to its last
// sizePerNode bytes.
func (c *Cluster) AggregateAppLog(ctx context.Context, fn string, sizePerNode int) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Sizes = append(c.Sizes, sizePerNode)
	var out []string
	for _, t := range c.NodeLogs[fn] {
		out = append(out, tail(t, sizePerNode))
	}
	return out, nil
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
	mu     sync.Mutex
	stats  map[string]eventing.RuntimeStats
	logs   map[string]string
	resets []string
}

// NewRuntime returns an empty runtime.
func NewRuntime() *Runtime {
	return &Runtime{stats: map[string]eventing.RuntimeStats{}, logs: map[string]string{}}
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
func (r *Runtime) AppLog(ctx context.Context, fn string, size int) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return tail(r.logs[fn], size), nil
}
