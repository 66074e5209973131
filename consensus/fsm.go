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

// maxNameLen bounds function names and config keys.
const maxNameLen = 1024

// cmdResult is the outcome of one command of an entry, handed back to the
// command's caller. It never leaves this process: the FSM returns it from
// Apply and raft hands it to the leader's ApplyFuture.
type cmdResult struct {
	err     error
	docs    []*docstore.Document // WriteDocs (per mutation, nil where failed) and CommitBatch
	docErrs []error              // WriteDocs: per mutation
	fn      *Function            // ChangeFunction, ReportFunction: the record (immutable)
	vbmap   *VBMap               // SetVBMap: the map (immutable)
	n       int                  // Expire: documents expired
	records []Record             // PutRecords: the records written
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

	// rmu guards records and recordsChanged. Records are immutable once
	// installed; tables are changed in place by the FSM goroutine under
	// rmu (which reads them without it) and cloned by snapshots.
	rmu            sync.RWMutex
	records        map[string]*recordTable // by table name
	recordsChanged chan struct{}

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

	// dec decodes the command being applied (FSM goroutine only): one
	// passed to a command's decode through the command interface would be
	// allocated anew for every command.
	dec decoder

	appliedIndex atomic.Uint64 // last log index applied (any type)
	entries      atomic.Uint64 // command entries applied
	commands     atomic.Uint64 // commands applied (sum over entries)
}

func newFSM(numVB int, log *slog.Logger) *fsm {
	return &fsm{
		docs:           docstore.NewStore(numVB),
		numVB:          numVB,
		log:            log,
		functions:      make(map[string]*Function),
		config:         make(map[string]json.RawMessage),
		changed:        make(chan struct{}),
		timers:         make(map[string]*timerTable),
		timersChanged:  make(chan struct{}),
		records:        make(map[string]*recordTable),
		recordsChanged: make(chan struct{}),
		sessions:       make(map[sessionKey]*sessionRecord),
		waiting:        make(map[uint64]chan entryResult),
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

// applyCommand decodes one command with its kind's entry in the commands
// table and applies it; it reports whether function records, config or the
// vbucket map changed.
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
	f.dec = decoder{b: b}
	c, err := decodeCommand(&f.dec)
	f.dec = decoder{} // it must not keep the entry in memory
	switch {
	case c == nil:
		return cmdResult{err: fmt.Errorf("%w: unknown command %s at index %d", ErrInvalid, kind, index)}, false
	case err != nil:
		return cmdResult{err: fmt.Errorf("%w: %s command at index %d: %v", ErrInvalid, kind, index, err)}, false
	}
	return c.apply(f, index)
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
	meta.Records = f.copyRecords()
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
	f.rmu.Lock()
	f.records = make(map[string]*recordTable, len(meta.Records))
	for _, t := range meta.Records {
		f.records[t.table] = t.tree
	}
	close(f.recordsChanged)
	f.recordsChanged = make(chan struct{})
	f.rmu.Unlock()
	f.restoreSessions(meta.Sessions)
	f.notifyChanged()
	return nil
}
