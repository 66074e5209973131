package dataplane

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"eventide/consensus"
	"eventide/docstore"
	"eventide/eventing"
	"eventide/handler"
)

// ErrNoStore: a Config lacks Records, Source or Sink.
var ErrNoStore = errors.New("dataplane: supervisor needs Records, Source and Sink")

// Records is the replicated control plane the supervisor and its workers
// follow: function records (lifecycle, instance, checkpoints), the reports
// that complete transitions, and vbucket ownership. *consensus.Store
// satisfies it.
type Records interface {
	// Functions lists the function records sorted by name.
	Functions() []consensus.Function
	// Function returns one record or consensus.ErrFunctionNotFound.
	Function(name string) (consensus.Function, error)
	// Changed returns a channel closed at the next change of the records.
	Changed() <-chan struct{}
	// ChangeFunction applies a change conditioned on ExpectVersion.
	ChangeFunction(ctx context.Context, c consensus.FunctionChange) (consensus.Function, error)
	// ReportFunction records whether a node runs an instance's workers.
	ReportFunction(ctx context.Context, r consensus.FunctionReport) (consensus.Function, error)
	// VBMap returns the vbucket ownership map (empty before the first one).
	VBMap() consensus.VBMap
}

// Source is where workers read the data: per-vbucket mutation streams of a
// source bucket, from a seqno, with a wake-up, and point reads of
// documents. *docstore.Store satisfies it (the Raft-replicated store every
// node applies); a Couchbase Server backend would serve it from DCP and KV.
type Source interface {
	// NumVBuckets is the number of vbuckets of every bucket.
	NumVBuckets() int
	// Changed returns a channel closed at the next change to bucket. A
	// worker takes it before reading, so no change is missed.
	Changed(bucket string) <-chan struct{}
	// HighSeqnos returns each vbucket's highest seqno, so that a worker
	// reads only the vbuckets past its cursors; docstore.ErrBucketNotFound
	// once the bucket is gone.
	HighSeqnos(bucket string) ([]uint64, error)
	// ReadVBucket returns up to max events of vb with seqno > after: the
	// current version of each key changed since, in seqno order, no gaps.
	ReadVBucket(bucket string, vb uint16, after uint64, max int) ([]docstore.Event, error)
	// Get returns the stored version of a document (tombstones and expired
	// versions included) or an error matching docstore.ErrNotFound.
	Get(ks docstore.Keyspace, key string) (*docstore.Document, error)
	// CheckKeyspace returns nil or docstore's not-found error for ks.
	CheckKeyspace(ks docstore.Keyspace) error
}

// Sink is where a worker's batches go: one commit carries the batch's
// document writes (conditional, all or nothing), its timer changes, its
// fired timers and its new checkpoints, fenced by instance, ownership epoch
// and the checkpoints it started from. It also holds the function's
// pending timers. *consensus.Store satisfies it.
type Sink interface {
	// CommitBatch commits b and returns once this node has applied it, so
	// that the worker's next reads see it. Its refusals are consensus's
	// sentinel errors and *docstore.BatchError (see DESIGN.md).
	CommitBatch(ctx context.Context, b consensus.Batch) ([]*docstore.Document, error)
	// PendingTimer returns the function's pending timer of that callback
	// and reference.
	PendingTimer(fn, callback, reference string) (consensus.Timer, bool)
	// DueTimers returns up to limit of the function's timers in vbs due at
	// now (Unix ms), earliest first.
	DueTimers(fn string, vbs []uint16, now int64, limit int) []consensus.Timer
	// NextTimerDue returns the earliest due time (Unix ms) of the
	// function's timers in vbs.
	NextTimerDue(fn string, vbs []uint16) (int64, bool)
	// TimersChanged returns a channel closed at the next timer change.
	TimersChanged() <-chan struct{}
}

// runSpec is what a node needs to run one function, decoded from its
// stored definition (decodeRunSpec).
type runSpec struct {
	Code         string
	Source       docstore.Keyspace
	Bindings     []handler.Binding
	CurlBindings []handler.CurlBinding
	Constants    []handler.Constant
	Settings     handler.Settings
	WorkerCount  int
	// TimerPartitions is num_timer_partitions.
	TimerPartitions int
	AppLogMaxSize   int64
	AppLogMaxFiles  int
}

// Config configures a Supervisor.
type Config struct {
	// NodeID names this node in logs.
	NodeID string
	// AppLogDir is where application logs are written (<dir>/<function>.log).
	AppLogDir string
	// Records are the function records and vbucket map. Required.
	Records Records
	// Source is where workers read mutations and documents. Required.
	Source Source
	// Sink is where workers commit batches and read timers. Required.
	Sink Sink
	// Querier runs the handlers' SQL++ statements; nil leaves them
	// throwing an N1QLError that says no query service is configured.
	Querier handler.Querier
	// BatchSize is the most events one worker commits at once. Default 512.
	BatchSize int
	// Logger; default discards.
	Logger *slog.Logger
}

// Supervisor runs the workers of the functions that are deployed, following
// the replicated lifecycle state, and moves transitional states
// (deploying, pausing, undeploying) to their terminal state once this
// node's workers have started or stopped.
type Supervisor struct {
	cfg    Config
	log    *slog.Logger
	memory *handler.MemoryGuard // every worker's memory budget

	mu      sync.Mutex
	runners map[string]*runner           // by function name; owned by Run's goroutine
	stats   map[string]*functionCounters // by function name; survive redeploys until reset
	applogs map[string]*handler.AppLog

	wake chan struct{} // buffered(1): asks Run for a reconcile
}

// The supervisor is this node's eventing.Runtime (runtime.go).
var _ eventing.Runtime = (*Supervisor)(nil)

// New returns a supervisor; Run starts it.
func New(cfg Config) (*Supervisor, error) {
	if cfg.Records == nil || cfg.Source == nil || cfg.Sink == nil {
		return nil, ErrNoStore
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 512
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Supervisor{
		cfg:     cfg,
		memory:  handler.NewMemoryGuard(0),
		log:     log.With("component", "supervisor"),
		runners: make(map[string]*runner),
		stats:   make(map[string]*functionCounters),
		applogs: make(map[string]*handler.AppLog),
		wake:    make(chan struct{}, 1),
	}, nil
}

// Run reconciles workers with the replicated state until ctx ends, then
// stops every worker and closes the application logs.
func (s *Supervisor) Run(ctx context.Context) {
	defer s.shutdown()
	go s.memory.Run(ctx)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		changed := s.cfg.Records.Changed()
		s.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-s.wake:
		case <-retry.C: // retries transitions that failed (e.g. no leader)
		}
	}
}

// poke asks Run to reconcile soon.
func (s *Supervisor) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Supervisor) shutdown() {
	s.mu.Lock()
	runners := s.runners
	s.runners = make(map[string]*runner)
	logs := s.applogs
	s.applogs = make(map[string]*handler.AppLog)
	s.mu.Unlock()
	// Interrupt every function first, then wait for all with one deadline.
	for _, r := range runners {
		r.cancel()
	}
	deadline := time.Now().Add(stopGrace)
	for _, r := range runners {
		r.wait(deadline)
	}
	for _, l := range logs {
		_ = l.Close()
	}
}

func (s *Supervisor) reconcile(ctx context.Context) {
	fns := s.cfg.Records.Functions()
	seen := make(map[string]bool, len(fns))
	for _, f := range fns {
		seen[f.Name] = true
		s.reconcileOne(ctx, f)
	}
	s.mu.Lock()
	var gone []*runner
	for name, r := range s.runners {
		if !seen[name] {
			gone = append(gone, r)
			delete(s.runners, name)
		}
	}
	// A deleted function's counters and log handle go with it, so that a
	// new function of the same name starts from zero.
	var logs []*handler.AppLog
	for name := range s.stats {
		if !seen[name] {
			delete(s.stats, name)
		}
	}
	for name, l := range s.applogs {
		if !seen[name] {
			logs = append(logs, l)
			delete(s.applogs, name)
		}
	}
	s.mu.Unlock()
	for _, r := range gone {
		r.stop()
	}
	for _, l := range logs {
		_ = l.Close()
	}
}

func (s *Supervisor) reconcileOne(ctx context.Context, f consensus.Function) {
	s.mu.Lock()
	r := s.runners[f.Name]
	s.mu.Unlock()
	if f.Status != consensus.StatusDeploying && f.Status != consensus.StatusDeployed {
		if r != nil {
			s.stopRunner(f.Name)
		}
		s.report(ctx, f, false)
		return
	}
	vbs, epoch, moved := s.ownership(r)
	// A definition changed while deployed (the settings Couchbase applies
	// live: log_level, timer_context_size, description) restarts the
	// workers with it; an interrupted batch re-runs from its checkpoint.
	if r != nil && (r.instance != f.InstanceID || moved || r.failed.Load() || !bytes.Equal(r.def, f.Definition)) {
		s.stopRunner(f.Name)
		r = nil
	}
	if len(vbs) == 0 {
		// This node owns no vbuckets: nothing to run, nothing to report.
		s.report(ctx, f, false)
		return
	}
	if r == nil {
		// Re-read the record after stopping the old runner, so the new one
		// starts from the checkpoints its predecessor committed.
		cur, err := s.cfg.Records.Function(f.Name)
		if err != nil || cur.InstanceID != f.InstanceID {
			return // changed meanwhile; the next reconcile sees it
		}
		if _, err = s.startRunner(cur, vbs, epoch); err != nil {
			s.log.Error("cannot start function", "function", f.Name, "err", err)
			if l := s.appLog(f.Name, nil); l != nil {
				_ = l.Printf("ERROR", "function cannot start: %v", err)
			}
			s.transition(ctx, f, consensus.FunctionChange{Status: consensus.StatusUndeployed, DropCheckpoints: true})
			return
		}
	}
	s.report(ctx, f, true)
}

// ownership returns the vbuckets this node owns in the replicated map and
// the map's epoch, and whether any of them changed owner since runner r
// started (so its batches would be fenced off). Without a map (a store
// that never had one) the node owns every vbucket.
func (s *Supervisor) ownership(r *runner) (vbs []uint16, epoch uint64, moved bool) {
	m := s.cfg.Records.VBMap()
	if len(m.Owners) == 0 {
		for vb := range s.cfg.Source.NumVBuckets() {
			vbs = append(vbs, uint16(vb))
		}
		return vbs, 0, r != nil && len(r.vbs) != len(vbs)
	}
	for vb, owner := range m.Owners {
		if owner != s.cfg.NodeID {
			continue
		}
		vbs = append(vbs, uint16(vb))
		if r != nil && m.VBEpochs[vb] > r.epoch {
			moved = true
		}
	}
	if r != nil && !slices.Equal(vbs, r.vbs) {
		moved = true
	}
	return vbs, m.Epoch, moved
}

// report tells the replicated record whether this node's workers run the
// function's current instance, when the record says otherwise; the FSM
// completes deploying/pausing/undeploying from these reports.
func (s *Supervisor) report(ctx context.Context, f consensus.Function, running bool) {
	if f.InstanceID == "" {
		return
	}
	if _, listed := slices.BinarySearch(f.Running, s.cfg.NodeID); listed == running {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := s.cfg.Records.ReportFunction(rctx, consensus.FunctionReport{
		Name: f.Name, InstanceID: f.InstanceID, Node: s.cfg.NodeID, Running: running,
	})
	if err != nil && !errors.Is(err, consensus.ErrStaleInstance) && !errors.Is(err, consensus.ErrFunctionNotFound) {
		s.log.Warn("cannot report function state; will retry", "function", f.Name, "running", running, "err", err)
	}
}

// transition commits a state change conditioned on the record version we
// acted on; a version mismatch means someone else moved it, and the next
// reconcile sees the new state.
func (s *Supervisor) transition(ctx context.Context, f consensus.Function, c consensus.FunctionChange) {
	c.Name = f.Name
	c.ExpectVersion = f.Version
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := s.cfg.Records.ChangeFunction(tctx, c); err != nil && !errors.Is(err, consensus.ErrVersionMismatch) {
		s.log.Warn("lifecycle transition failed; will retry", "function", f.Name, "to", c.Status, "err", err)
	}
}

func (s *Supervisor) stopRunner(name string) {
	s.mu.Lock()
	r := s.runners[name]
	delete(s.runners, name)
	s.mu.Unlock()
	if r != nil {
		r.stop()
	}
}

// counters returns the live counters of a function on this node.
func (s *Supervisor) counters(name string) *functionCounters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.stats[name]
	if c == nil {
		c = newFunctionCounters()
		s.stats[name] = c
	}
	return c
}

// appLog returns the function's application log, opening it on first use
// with spec's rotation limits (defaults when spec is nil). A log opened
// earlier (by a previous deployment, or by a getAppLog request) takes
// spec's limits, which may have changed since.
func (s *Supervisor) appLog(name string, spec *runSpec) *handler.AppLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.applogs[name]; l != nil {
		if spec != nil {
			if err := l.SetLimits(spec.AppLogMaxSize, spec.AppLogMaxFiles); err != nil {
				s.log.Warn("cannot change application log limits", "function", name, "err", err)
			}
		}
		return l
	}
	maxSize, maxFiles := int64(40<<20), 10
	if spec != nil {
		maxSize, maxFiles = spec.AppLogMaxSize, spec.AppLogMaxFiles
	}
	dir, stem := appLogPath(s.cfg.AppLogDir, name)
	l, err := handler.OpenAppLog(dir, stem, maxSize, maxFiles)
	if err != nil {
		s.log.Error("cannot open application log", "function", name, "err", err)
		return nil
	}
	s.applogs[name] = l
	return l
}

// Running reports whether this node runs workers for the function.
func (s *Supervisor) Running(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runners[name] != nil
}
