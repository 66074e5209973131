package consensus

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"eventide/docstore"
)

// Function lifecycle states (Function.Status).
const (
	StatusUndeployed  = "undeployed"
	StatusDeploying   = "deploying"
	StatusDeployed    = "deployed"
	StatusPausing     = "pausing"
	StatusPaused      = "paused"
	StatusUndeploying = "undeploying"
)

// DCP stream boundaries (FunctionChange.Boundary).
const (
	// BoundaryEverything starts a new instance at seqno 0 of every vbucket.
	BoundaryEverything = "everything"
	// BoundaryFromNow starts a new instance at the source bucket's high
	// seqnos current when the change is applied.
	BoundaryFromNow = "from_now"
)

// OnDeploy reasons (FunctionChange.OnDeploy, Function.OnDeploy).
const (
	OnDeployDeploy = "Deploy"
	OnDeployResume = "Resume"
)

// maxNameLen bounds function names and config keys.
const maxNameLen = 1024

func validStatus(s string) bool {
	switch s {
	case StatusUndeployed, StatusDeploying, StatusDeployed, StatusPausing, StatusPaused, StatusUndeploying:
		return true
	}
	return false
}

// processing reports whether a function in status s may commit batches.
func processing(s string) bool {
	return s == StatusDeploying || s == StatusDeployed || s == StatusPausing
}

// cmdResult is the outcome of one command of an entry, handed back to the
// command's caller. It never leaves this process: the FSM returns it from
// Apply and raft hands it to the leader's ApplyFuture.
type cmdResult struct {
	err     error
	docs    []*docstore.Document // WriteDocs (per mutation, nil where failed) and CommitBatch
	docErrs []error         // WriteDocs: per mutation
	fn      *Function       // ChangeFunction, ReportFunction: the record (immutable)
	vbmap   *VBMap          // SetVBMap: the map (immutable)
	n       int             // Expire: documents expired
}

// fsm is the replicated state machine. Apply, Snapshot and Restore run on
// raft's FSM goroutine only; the read methods run on any goroutine.
type fsm struct {
	docs  *docstore.Store
	numVB int
	log   *slog.Logger

	// mu guards functions, config, vbmap and changed. Records in
	// functions, values in config and the vbmap are immutable once
	// installed (copy on write), so a snapshot copies the maps and not
	// what they point to. Only the FSM goroutine writes them, so it reads
	// them without the lock.
	mu        sync.RWMutex
	functions map[string]*Function
	config    map[string]json.RawMessage
	vbmap     *VBMap // nil until a map is set
	changed   chan struct{}

	// tmu guards timers and timersChanged. Tables are changed in place
	// by the FSM goroutine under tmu; snapshots clone them.
	tmu           sync.RWMutex
	timers        map[string]*timerTable // by function name
	timersChanged chan struct{}

	// applyTime is the leader's append time of the entry being applied
	// (Unix ms; 0 for entries without one): the FSM's only clock, the same
	// on every replica (FSM goroutine only).
	applyTime int64

	// sessions records the tokens applied per proposing session (FSM
	// goroutine only; snapshots copy it).
	sessions map[sessionKey]*sessionRecord

	// self identifies this node's own entries (set once before raft
	// starts); waiting holds the proposers waiting for their entries'
	// results, by sequence.
	selfNode    string
	selfSession uint64
	wmu         sync.Mutex
	waiting     map[uint64]chan entryResult

	appliedIndex atomic.Uint64 // last log index applied (any type)
	entries      atomic.Uint64 // command entries applied
	commands     atomic.Uint64 // commands applied (sum over entries)
}

func newFSM(numVB int, log *slog.Logger) *fsm {
	return &fsm{
		docs:          docstore.NewStore(numVB),
		numVB:         numVB,
		log:           log,
		functions:     make(map[string]*Function),
		config:        make(map[string]json.RawMessage),
		changed:       make(chan struct{}),
		timers:        make(map[string]*timerTable),
		timersChanged: make(chan struct{}),
		sessions:      make(map[sessionKey]*sessionRecord),
		waiting:       make(map[uint64]chan entryResult),
	}
}

var (
	_ raft.FSM         = (*fsm)(nil)
	_ raft.FSMSnapshot = (*fsmSnapshot)(nil)
)

// Apply implements raft.FSM. It returns []cmdResult for a command entry,
// or an error when the entry itself cannot be decoded. It never panics on
// input: a command that panics inside is recovered into its error result.
func (f *fsm) Apply(l *raft.Log) any {
	defer f.appliedIndex.Store(l.Index)
	if l.Type != raft.LogCommand {
		return nil
	}
	f.entries.Add(1)
	d := decoder{b: l.Data}
	tok, n, err := decodeEntryHeader(&d)
	if err != nil {
		return fmt.Errorf("%w: log entry %d: %v", ErrInvalid, l.Index, err)
	}
	own := f.ownToken(tok)
	if tok.node != "" && tok.seq != 0 && f.seen(tok, l.Index) {
		// A resend of an entry whose first copy was applied: its proposer
		// got the results from that first application.
		if own {
			f.deliver(tok.seq, entryResult{err: fmt.Errorf("%w: entry %d of this node was applied before its results could be returned", ErrLeadershipLost, tok.seq)})
		}
		return duplicateEntry{}
	}
	f.applyTime = 0
	if !l.AppendedAt.IsZero() {
		f.applyTime = l.AppendedAt.UnixMilli()
	}
	results := make([]cmdResult, n)
	notify := false
	for i := range results {
		b := d.span()
		if d.err != nil {
			for j := i; j < n; j++ {
				results[j].err = fmt.Errorf("%w: log entry %d command %d: %v", ErrInvalid, l.Index, j, d.err)
			}
			break
		}
		var changed bool
		results[i], changed = f.applyCommand(l.Index, b)
		notify = notify || changed
	}
	f.commands.Add(uint64(n))
	if notify {
		f.sweepTimers()
		f.notifyChanged()
	}
	if own {
		f.deliver(tok.seq, entryResult{res: results})
	}
	return results
}

// duplicateEntry is Apply's response to an entry whose token was applied
// before: nothing was applied again.
type duplicateEntry struct{}

// applyCommand applies one command and reports whether function records or
// config changed.
func (f *fsm) applyCommand(index uint64, b []byte) (res cmdResult, changed bool) {
	kind := cmdKind(0)
	if len(b) > 0 {
		kind = cmdKind(b[0])
	}
	defer func() {
		if r := recover(); r != nil {
			f.log.Error("command panicked while applied; state of this command may be partial", "index", index, "kind", kind.String(), "panic", r)
			res, changed = cmdResult{err: fmt.Errorf("consensus: applying %s at index %d: internal error: %v", kind, index, r)}, false
		}
	}()
	d := decoder{b: b}
	d.byte()
	bad := func() cmdResult {
		return cmdResult{err: fmt.Errorf("%w: %s command at index %d: %v", ErrInvalid, kind, index, d.err)}
	}
	switch kind {
	case kindCreateBucket:
		spec := docstore.BucketSpec{Name: d.string(), UUID: d.string(), RAMQuotaMB: int(d.varint()), Type: d.string()}
		if d.err != nil {
			return bad(), false
		}
		return cmdResult{err: f.docs.CreateBucket(spec)}, false
	case kindDeleteBucket:
		name := d.string()
		if d.err != nil {
			return bad(), false
		}
		return cmdResult{err: f.docs.DeleteBucket(name)}, false
	case kindCreateScope, kindDeleteScope:
		bucket, scope := d.string(), d.string()
		if d.err != nil {
			return bad(), false
		}
		if kind == kindCreateScope {
			return cmdResult{err: f.docs.CreateScope(bucket, scope)}, false
		}
		return cmdResult{err: f.docs.DeleteScope(bucket, scope)}, false
	case kindCreateCollection, kindDeleteCollection:
		ks := d.keyspace()
		if d.err != nil {
			return bad(), false
		}
		if kind == kindCreateCollection {
			return cmdResult{err: f.docs.CreateCollection(ks)}, false
		}
		return cmdResult{err: f.docs.DeleteCollection(ks)}, false
	case kindWriteDocs:
		cas := d.uvarint()
		ms := d.mutations()
		if d.err != nil {
			return bad(), false
		}
		return f.writeDocs(cas, ms), false
	case kindChangeFunction:
		var c FunctionChange
		flags := d.uvarint()
		c.Name = d.string()
		c.ExpectVersion = d.uvarint()
		if flags&chgHasDefinition != 0 {
			c.Definition = d.bytes()
			c.Source = d.keyspace()
		}
		c.Status = d.string()
		c.NewInstanceID = d.string()
		c.Boundary = d.string()
		c.DropCheckpoints = flags&chgDropCheckpts != 0
		if flags&chgHasOnDeploy != 0 {
			c.OnDeploy = d.string()
		}
		if d.err != nil {
			return bad(), false
		}
		return f.changeFunction(index, &c)
	case kindDeleteFunction:
		name := d.string()
		expect := d.uvarint()
		if d.err != nil {
			return bad(), false
		}
		return f.deleteFunction(name, expect)
	case kindCommitBatch, kindCommitOwnedBatch, kindCommitTimedBatch:
		var b Batch
		cas := d.uvarint()
		b.Function = d.string()
		b.InstanceID = d.string()
		if kind != kindCommitBatch {
			b.Node = d.string()
			b.Epoch = d.uvarint()
		}
		n := d.count(2)
		cps := make([]vbSeq, n)
		for i := range cps {
			vb := d.uvarint()
			if vb > 0xffff {
				d.fail("vbucket")
			}
			cps[i] = vbSeq{vb: uint16(vb), seq: d.uvarint(), from: d.uvarint()}
		}
		b.Mutations = d.mutations()
		if kind == kindCommitTimedBatch {
			nt := d.count(6)
			b.Timers = make([]TimerOp, nt)
			for i := range b.Timers {
				b.Timers[i].Cancel = d.bool()
				d.timer(&b.Timers[i].Timer)
			}
			nf := d.count(4)
			b.Fired = make([]FiredTimer, nf)
			for i := range b.Fired {
				ft := &b.Fired[i]
				ft.Callback, ft.Reference, ft.Seq = d.string(), d.string(), d.uvarint()
				vb := d.uvarint()
				if vb > 0xffff {
					d.fail("fired timer vbucket")
				}
				ft.VB = uint16(vb)
			}
			b.OnDeployDone = d.bool()
		}
		if d.err != nil {
			return bad(), false
		}
		return f.commitBatch(index, cas, &b, cps)
	case kindSetConfig:
		key := d.string()
		var value json.RawMessage
		if d.bool() {
			value = d.bytes()
		}
		if d.err != nil {
			return bad(), false
		}
		return f.setConfig(key, value)
	case kindExpire:
		now := d.uint32()
		cas := d.uvarint()
		if d.err != nil {
			return bad(), false
		}
		return cmdResult{n: f.docs.ExpireDue(now, cas)}, false
	case kindSetVBMap:
		expect := d.uvarint()
		owners := d.owners()
		if d.err != nil {
			return bad(), false
		}
		return f.setVBMap(index, expect, owners)
	case kindReportFunction:
		r := FunctionReport{Name: d.string(), InstanceID: d.string(), Node: d.string(), Running: d.bool()}
		if d.err != nil {
			return bad(), false
		}
		return f.reportFunction(index, &r)
	}
	return cmdResult{err: fmt.Errorf("%w: unknown command %s at index %d", ErrInvalid, kind, index)}, false
}

func (f *fsm) writeDocs(cas uint64, ms []docstore.Mutation) cmdResult {
	res := cmdResult{docs: make([]*docstore.Document, len(ms)), docErrs: make([]error, len(ms))}
	for i := range ms {
		res.docs[i], res.docErrs[i] = f.docs.Apply(ms[i], cas)
		if res.docErrs[i] != nil {
			res.docs[i] = nil
		}
	}
	return res
}

// validateChange checks what can be checked without the state; the
// proposer runs it to fail fast, the FSM runs it because it decides.
func validateChange(c *FunctionChange) error {
	switch {
	case c.Name == "" || len(c.Name) > maxNameLen:
		return fmt.Errorf("%w: function name must have 1 to %d bytes", ErrInvalid, maxNameLen)
	case c.Definition != nil && !json.Valid(c.Definition):
		return fmt.Errorf("%w: definition of function %q is not valid JSON", ErrInvalid, c.Name)
	case c.Status != "" && !validStatus(c.Status):
		return fmt.Errorf("%w: unknown function status %q", ErrInvalid, c.Status)
	case c.NewInstanceID != "" && c.DropCheckpoints:
		return fmt.Errorf("%w: a change cannot both start a new instance and drop checkpoints", ErrInvalid)
	case c.NewInstanceID != "" && c.Boundary != BoundaryEverything && c.Boundary != BoundaryFromNow:
		return fmt.Errorf("%w: dcp stream boundary %q is neither %q nor %q", ErrInvalid, c.Boundary, BoundaryEverything, BoundaryFromNow)
	case c.OnDeploy != "" && c.OnDeploy != OnDeployDeploy && c.OnDeploy != OnDeployResume:
		return fmt.Errorf("%w: OnDeploy reason %q is neither %q nor %q", ErrInvalid, c.OnDeploy, OnDeployDeploy, OnDeployResume)
	}
	return nil
}

func (f *fsm) changeFunction(index uint64, c *FunctionChange) (cmdResult, bool) {
	if err := validateChange(c); err != nil {
		return cmdResult{err: err}, false
	}
	f.mu.RLock()
	cur := f.functions[c.Name]
	f.mu.RUnlock()
	switch {
	case c.ExpectVersion == 0 && cur != nil:
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionExists, c.Name)}, false
	case c.ExpectVersion != 0 && cur == nil:
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionNotFound, c.Name)}, false
	case c.ExpectVersion != 0 && cur.Version != c.ExpectVersion:
		return cmdResult{err: fmt.Errorf("%w: function %q is at version %d, not %d", ErrVersionMismatch, c.Name, cur.Version, c.ExpectVersion)}, false
	}
	var next Function
	if cur != nil {
		next = *cur
	} else {
		next = Function{Name: c.Name, Status: StatusUndeployed}
	}
	if c.Definition != nil {
		next.Definition = c.Definition
		next.Source = c.Source
	}
	if c.Status != "" {
		next.Status = c.Status
	}
	if c.DropCheckpoints {
		next.InstanceID = ""
		next.Checkpoints = nil
		next.Running = nil
	}
	if c.DropCheckpoints || c.NewInstanceID != "" {
		next.OnDeploy, next.OnDeployDelay = "", 0
	}
	if c.NewInstanceID != "" {
		cps := make([]uint64, f.numVB)
		if c.Boundary == BoundaryFromNow {
			hs, err := f.docs.HighSeqnos(next.Source.Bucket)
			if err != nil {
				return cmdResult{err: fmt.Errorf("function %q: from_now boundary: %w", c.Name, err)}, false
			}
			copy(cps, hs)
		}
		next.InstanceID = c.NewInstanceID
		next.Checkpoints = cps
		next.Running = nil
	}
	if c.OnDeploy != "" {
		next.OnDeploy, next.OnDeployDelay = c.OnDeploy, 0
		if c.OnDeploy == OnDeployResume && next.PausedAt > 0 && f.applyTime > next.PausedAt {
			next.OnDeployDelay = f.applyTime - next.PausedAt
		}
	}
	f.completeTransition(&next)
	next.Version = index
	rec := &next
	f.mu.Lock()
	f.functions[c.Name] = rec
	f.mu.Unlock()
	return cmdResult{fn: rec}, true
}

func (f *fsm) deleteFunction(name string, expect uint64) (cmdResult, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur := f.functions[name]
	if cur == nil {
		return cmdResult{err: fmt.Errorf("%w: %q", ErrFunctionNotFound, name)}, false
	}
	if cur.Version != expect {
		return cmdResult{err: fmt.Errorf("%w: function %q is at version %d, not %d", ErrVersionMismatch, name, cur.Version, expect)}, false
	}
	delete(f.functions, name)
	return cmdResult{}, true
}

// vbSeq is one checkpoint of a CommitBatch command (sorted by vbucket).
type vbSeq struct {
	vb        uint16
	seq, from uint64
}

func (f *fsm) commitBatch(index, cas uint64, b *Batch, cps []vbSeq) (cmdResult, bool) {
	f.mu.RLock()
	rec := f.functions[b.Function]
	f.mu.RUnlock()
	if rec == nil || rec.InstanceID == "" || rec.InstanceID != b.InstanceID || !processing(rec.Status) {
		return cmdResult{err: fmt.Errorf("%w: function %q instance %q", ErrStaleInstance, b.Function, b.InstanceID)}, false
	}
	if err := f.checkOwnership(b, cps); err != nil {
		return cmdResult{err: err}, false
	}
	for _, c := range cps {
		if int(c.vb) >= len(rec.Checkpoints) {
			return cmdResult{err: fmt.Errorf("%w: checkpoint for vbucket %d, function %q has %d", ErrInvalid, c.vb, b.Function, len(rec.Checkpoints))}, false
		}
		if rec.Checkpoints[c.vb] != c.from {
			return cmdResult{err: fmt.Errorf("%w: function %q vbucket %d is at %d, batch starts at %d",
				ErrCheckpointMismatch, b.Function, c.vb, rec.Checkpoints[c.vb], c.from)}, false
		}
	}
	if b.OnDeployDone && rec.OnDeploy == "" {
		return cmdResult{err: fmt.Errorf("%w: function %q", ErrOnDeployDone, b.Function)}, false
	}
	if err := validateTimerOps(b.Timers, b.Fired, f.numVB); err != nil {
		return cmdResult{err: err}, false
	}
	f.tmu.RLock()
	table := f.timers[b.Function]
	if table != nil && table.instance != rec.InstanceID {
		table = nil
	}
	err := checkFired(table, b.Function, b.Fired)
	f.tmu.RUnlock()
	if err != nil {
		return cmdResult{err: err}, false
	}
	var docs []*docstore.Document
	if len(b.Mutations) > 0 {
		var err error
		if docs, err = f.docs.ApplyAll(b.Mutations, cas); err != nil {
			return cmdResult{err: err}, false
		}
	}
	if len(b.Timers) > 0 || len(b.Fired) > 0 {
		f.tmu.Lock()
		if table == nil {
			table = newTimerTable(rec.InstanceID)
			f.timers[b.Function] = table
		}
		applyTimers(table, b.Fired, b.Timers)
		f.notifyTimersLocked()
		f.tmu.Unlock()
	}
	// Checkpoints only move forward: a worker re-running an old batch
	// (or a late duplicate) must not rewind them.
	var next []uint64
	for _, c := range cps {
		if c.seq > rec.Checkpoints[c.vb] {
			if next == nil {
				next = slices.Clone(rec.Checkpoints)
			}
			next[c.vb] = c.seq
		}
	}
	changed := false
	if next != nil || b.OnDeployDone {
		// Checkpoint progress is not a change of the record for optimistic
		// concurrency (Version stays) nor for Changed(): the supervisor's
		// lifecycle changes must not conflict with every worker commit.
		// Completing OnDeploy is: it may complete the deploy.
		upd := *rec
		if next != nil {
			upd.Checkpoints = next
		}
		if b.OnDeployDone {
			upd.OnDeploy, upd.OnDeployDelay = "", 0
			f.completeTransition(&upd)
			upd.Version = index
			changed = true
		}
		f.mu.Lock()
		f.functions[b.Function] = &upd
		f.mu.Unlock()
	}
	return cmdResult{docs: docs}, changed
}

func (f *fsm) setConfig(key string, value json.RawMessage) (cmdResult, bool) {
	if key == "" || len(key) > maxNameLen {
		return cmdResult{err: fmt.Errorf("%w: config key must have 1 to %d bytes", ErrInvalid, maxNameLen)}, false
	}
	if value != nil && !json.Valid(value) {
		return cmdResult{err: fmt.Errorf("%w: config value for %q is not valid JSON", ErrInvalid, key)}, false
	}
	f.mu.Lock()
	if value == nil {
		delete(f.config, key)
	} else {
		f.config[key] = value
	}
	f.mu.Unlock()
	return cmdResult{}, true
}

func (f *fsm) notifyChanged() {
	f.mu.Lock()
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// Read side.

func (f *fsm) changedCh() <-chan struct{} {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.changed
}

// copyFunction returns a deep copy, so callers may modify what they get.
func copyFunction(r *Function) Function {
	c := *r
	c.Definition = slices.Clone(r.Definition)
	c.Checkpoints = slices.Clone(r.Checkpoints)
	c.Running = slices.Clone(r.Running)
	return c
}

func (f *fsm) listFunctions() []Function {
	f.mu.RLock()
	recs := make([]*Function, 0, len(f.functions))
	for _, r := range f.functions {
		recs = append(recs, r)
	}
	f.mu.RUnlock()
	slices.SortFunc(recs, func(a, b *Function) int { return strings.Compare(a.Name, b.Name) })
	out := make([]Function, len(recs))
	for i, r := range recs {
		out[i] = copyFunction(r)
	}
	return out
}

func (f *fsm) function(name string) (Function, error) {
	f.mu.RLock()
	r := f.functions[name]
	f.mu.RUnlock()
	if r == nil {
		return Function{}, fmt.Errorf("%w: %q", ErrFunctionNotFound, name)
	}
	return copyFunction(r), nil
}

func (f *fsm) configValue(key string) json.RawMessage {
	f.mu.RLock()
	v := f.config[key]
	f.mu.RUnlock()
	return slices.Clone(v)
}

// Snapshot implements raft.FSM. It runs on the FSM goroutine between two
// Applies, so what it captures matches the snapshot's Raft index exactly:
// it copies the function and config maps (their values are immutable) and
// takes dcp's pointer-copy Snapshot. Persist streams everything afterwards
// while Apply continues.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	meta := snapshotMeta{
		Functions: make([]*Function, 0, len(f.functions)),
		Config:    make(map[string]json.RawMessage, len(f.config)),
	}
	for _, r := range f.functions {
		meta.Functions = append(meta.Functions, r)
	}
	for k, v := range f.config {
		meta.Config[k] = v
	}
	meta.VBMap = f.vbmap
	f.mu.RUnlock()
	slices.SortFunc(meta.Functions, func(a, b *Function) int { return strings.Compare(a.Name, b.Name) })
	meta.NumVBuckets = f.numVB
	meta.Sessions = f.copySessions()
	meta.Timers = f.copyTimers()
	return &fsmSnapshot{meta: meta, docs: f.docs.Snapshot()}, nil
}

// Restore implements raft.FSM: it replaces all state with a snapshot.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	meta, err := readSnapshot(rc, f.docs, f.numVB)
	if err != nil {
		return fmt.Errorf("consensus: restore snapshot: %w", err)
	}
	fns := make(map[string]*Function, len(meta.Functions))
	for _, r := range meta.Functions {
		fns[r.Name] = r
	}
	f.mu.Lock()
	f.functions = fns
	f.config = meta.Config
	if f.config == nil {
		f.config = make(map[string]json.RawMessage)
	}
	f.vbmap = meta.VBMap
	f.mu.Unlock()
	f.tmu.Lock()
	f.timers = make(map[string]*timerTable, len(meta.Timers))
	for _, ts := range meta.Timers {
		f.timers[ts.function] = ts.table
	}
	f.tmu.Unlock()
	f.notifyTimers()
	f.restoreSessions(meta.Sessions)
	f.notifyChanged()
	return nil
}
