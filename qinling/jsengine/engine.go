package jsengine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"eventide/jsrt"
	"eventide/qinling"
)

// Sentinel errors.
var (
	// ErrClosed: Run was called on a closed Engine.
	ErrClosed = errors.New("jsengine: engine closed")
)

// DefaultTimeout bounds an execution whose code sets no timeout.
const DefaultTimeout = 5 * time.Minute

// fnVersion names one function version's code; version 0 is the
// function's latest code.
type fnVersion struct {
	function string
	version  int
}

// codeKey identifies the code a set of runtimes was made for. The memory
// budget is part of it because a runtime's budget is fixed when it is
// made, and a function's memory_size can change without its digest; the
// entry, because a runtime keeps the entry's function once loaded.
type codeKey struct {
	fnVersion
	digest string
	entry  string
	memory int64
}

// codeSet is the warm runtimes of one code key. Its fields are guarded by
// Engine.mu, except prog and err, written once before ready is closed.
type codeSet struct {
	key   codeKey
	ready chan struct{} // closed once prog or err is set
	prog  *program
	err   error // the package or entry is unusable: every Run fails with it

	idle     []*worker // last returned at the end: the warmest
	total    int       // idle, running and being made
	lastUsed time.Time
	dropped  bool // replaced, detached or closed: runtimes go when returned
}

// Engine runs JavaScript functions (see the package doc). It implements
// qinling.Engine and is safe for concurrent use.
type Engine struct {
	cfg     Config
	memory  *jsrt.MemoryGuard
	stopMem context.CancelFunc // nil unless the engine runs memory
	memDone chan struct{}
	closeMu sync.Once
	seq     atomic.Uint64 // names runtimes

	// mu guards the fields below and every codeSet's.
	mu      sync.Mutex
	sets    map[fnVersion]*codeSet
	targets map[string]int // Scale's warm runtimes, by function
	total   int            // runtimes in existence, every set
	// running: runtimes running an execution, in every set (dropped ones
	// too), for Close to interrupt.
	running map[*worker]struct{}
	waiters int           // Runs waiting for a runtime
	changed chan struct{} // closed when a runtime is returned or dropped while waiters > 0
	closed  bool
}

var _ qinling.Engine = (*Engine)(nil)

// New returns an engine configured by cfg: zero fields take their
// defaults, and values Validate refuses are brought within bounds.
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	d := DefaultConfig()
	if cfg.MaxWorkers < 0 {
		cfg.MaxWorkers = d.MaxWorkers
	}
	if cfg.MaxWorkersPerFunction < 0 {
		cfg.MaxWorkersPerFunction = d.MaxWorkersPerFunction
	}
	cfg.MaxWorkersPerFunction = min(cfg.MaxWorkersPerFunction, cfg.MaxWorkers)
	cfg.DefaultWarm = min(max(cfg.DefaultWarm, 0), cfg.MaxWorkersPerFunction)
	if cfg.MaxPackageFiles < 0 {
		cfg.MaxPackageFiles = d.MaxPackageFiles
	}
	if cfg.MaxPackageBytes < 0 {
		cfg.MaxPackageBytes = d.MaxPackageBytes
	}
	if cfg.MaxLogBytes < 0 {
		cfg.MaxLogBytes = d.MaxLogBytes
	}
	if cfg.MaxOutputBytes < 0 {
		cfg.MaxOutputBytes = d.MaxOutputBytes
	}
	e := &Engine{
		cfg:     cfg,
		memory:  cfg.Memory,
		sets:    make(map[fnVersion]*codeSet),
		targets: make(map[string]int),
		running: make(map[*worker]struct{}),
		changed: make(chan struct{}),
	}
	if e.memory == nil {
		e.memory = jsrt.NewMemoryGuard(0)
		ctx, cancel := context.WithCancel(context.Background())
		e.stopMem, e.memDone = cancel, make(chan struct{})
		go func() {
			defer close(e.memDone)
			e.memory.Run(ctx)
		}()
	}
	return e
}

// newWorker makes a runtime for a set's program, named for Workers.
func (e *Engine) newWorker(p *program, timeout time.Duration, budget int64) (*worker, error) {
	w, err := newWorker(p, timeout, budget, e.memory, e.cfg.MaxLogBytes)
	if err != nil {
		return nil, err
	}
	w.name = "jsworker-" + strconv.FormatUint(e.seq.Add(1), 10)
	return w, nil
}

// budgetOf is code's memory budget for a runtime.
func budgetOf(code qinling.Code) int64 {
	if code.MemoryBytes <= 0 {
		return jsrt.DefaultMemoryBudget
	}
	return code.MemoryBytes
}

// Run executes code once with inv on a warm runtime of its code key (made
// if none is idle and the bounds allow, else awaited within ctx). The
// function's failures are a Result with Success false and the message as
// Output; the error is ErrClosed, or ctx's when it ended before or during
// the execution.
func (e *Engine) Run(ctx context.Context, code qinling.Code, inv qinling.Invocation) (qinling.Result, error) {
	if err := ctx.Err(); err != nil {
		return qinling.Result{}, err
	}
	timeout := code.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	budget := budgetOf(code)
	var set *codeSet
	var w *worker
	for w == nil {
		var err error
		if set, err = e.codeSet(ctx, code, budget); err != nil {
			return qinling.Result{}, err
		}
		if set.err != nil {
			return e.result(inv.ExecutionID, fail(set.err.Error()), set.err.Error()+"\n", 0), nil
		}
		if w, err = e.checkout(ctx, set, timeout, budget); err != nil {
			if errors.Is(err, errSetDropped) {
				continue // its code was replaced meanwhile: find this code's set again
			}
			if errors.Is(err, ErrClosed) || ctx.Err() != nil {
				return qinling.Result{}, err
			}
			msg := "Function invocation error: cannot make a runtime: " + err.Error()
			return e.result(inv.ExecutionID, fail(msg), msg+"\n", 0), nil
		}
	}
	start := time.Now()
	out := w.invoke(ctx, timeout, invocation{
		executionID: inv.ExecutionID,
		context: []ctxField{
			{"execution_id", inv.ExecutionID},
			{"function_id", code.FunctionID},
			{"function_version", code.Version},
			{"project_id", inv.ProjectID},
		},
		input:     inv.Input,
		maxOutput: e.cfg.MaxOutputBytes,
	})
	dur := time.Since(start)
	log := w.log.take()
	e.checkin(set, w)
	res := e.result(inv.ExecutionID, out, log, dur)
	if out.err != nil {
		return res, fmt.Errorf("jsengine: execution %s: %w", inv.ExecutionID, out.err)
	}
	return res, nil
}

// result frames an execution's log with the lines Qinling's Python
// runtime writes around it.
func (e *Engine) result(executionID string, out outcome, log string, d time.Duration) qinling.Result {
	return qinling.Result{
		Success:  out.success,
		Output:   out.output,
		Log:      "Start execution: " + executionID + "\n" + log + "Finished execution: " + executionID + "\n",
		Duration: d,
	}
}

// codeSet returns the set of runtimes for code, making it (and reading
// the package, once) if needed; a set of the same function version with
// other code is dropped.
func (e *Engine) codeSet(ctx context.Context, code qinling.Code, budget int64) (*codeSet, error) {
	fv := fnVersion{code.FunctionID, code.Version}
	key := codeKey{fv, code.Digest, code.Entry, budget}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	s := e.sets[fv]
	if s != nil && s.key != key {
		e.dropLocked(s)
		s = nil
	}
	made := s == nil
	if made {
		s = &codeSet{key: key, ready: make(chan struct{})}
		e.sets[fv] = s
	}
	s.lastUsed = time.Now()
	e.mu.Unlock()
	if made {
		s.prog, s.err = newProgram(code.Package, code.Entry, e.cfg)
		close(s.ready)
		if s.err == nil {
			e.prewarm(s, code.Timeout)
		}
		return s, nil
	}
	select {
	case <-s.ready:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errSetDropped: the set was dropped while a Run waited on it.
var errSetDropped = errors.New("jsengine: code replaced")

// checkout takes an idle runtime of s, else makes one within the bounds
// (evicting an idle runtime of another function if the node is full),
// else waits for a change within ctx.
func (e *Engine) checkout(ctx context.Context, s *codeSet, timeout time.Duration, budget int64) (*worker, error) {
	for {
		e.mu.Lock()
		switch {
		case e.closed:
			e.mu.Unlock()
			return nil, ErrClosed
		case s.dropped:
			e.mu.Unlock()
			return nil, errSetDropped
		}
		if n := len(s.idle); n > 0 {
			w := s.idle[n-1]
			s.idle[n-1] = nil
			s.idle = s.idle[:n-1]
			e.running[w] = struct{}{}
			e.mu.Unlock()
			return w, nil
		}
		if s.total < e.cfg.MaxWorkersPerFunction && (e.total < e.cfg.MaxWorkers || e.evictLocked(s, false)) {
			s.total++
			e.total++
			e.mu.Unlock()
			w, err := e.newWorker(s.prog, timeout, budget)
			e.mu.Lock()
			if err != nil {
				s.total--
				e.total--
				e.signalLocked()
				e.mu.Unlock()
				return nil, err
			}
			if e.closed || s.dropped {
				// Dropped while it was being made: not this Run's to use.
				s.total--
				e.total--
				w.close()
				e.signalLocked()
				e.mu.Unlock()
				continue
			}
			e.running[w] = struct{}{}
			e.mu.Unlock()
			return w, nil
		}
		e.waiters++
		ch := e.changed
		e.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		e.mu.Lock()
		e.waiters--
		e.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// checkin returns a runtime after its invocation: back to idle, or closed
// if it must not be reused or its set is gone.
func (e *Engine) checkin(s *codeSet, w *worker) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.running, w)
	if w.broken || s.dropped || e.closed {
		s.total--
		e.total--
		w.close()
		if w.overBudget {
			jsrt.ReleaseMemory()
		}
	} else {
		s.idle = append(s.idle, w)
	}
	e.signalLocked()
}

// signalLocked wakes the Runs waiting for a runtime.
func (e *Engine) signalLocked() {
	if e.waiters > 0 {
		close(e.changed)
		e.changed = make(chan struct{})
	}
}

// targetLocked is how many runtimes s keeps ready: Scale's count for a
// function's latest code, else DefaultWarm.
func (e *Engine) targetLocked(s *codeSet) int {
	if n, ok := e.targets[s.key.function]; ok && s.key.version == 0 {
		return n
	}
	return e.cfg.DefaultWarm
}

// evictLocked closes one idle runtime of another set than except to make
// room on a full node: from the least recently used set holding more
// runtimes than its target, else (unless extrasOnly) from the least
// recently used set with an idle runtime. It reports whether it freed one.
func (e *Engine) evictLocked(except *codeSet, extrasOnly bool) bool {
	var victim *codeSet
	victimExtra := false
	for _, s := range e.sets {
		if s == except || len(s.idle) == 0 {
			continue
		}
		extra := s.total > e.targetLocked(s)
		if extrasOnly && !extra {
			continue
		}
		if victim == nil || (extra && !victimExtra) ||
			(extra == victimExtra && s.lastUsed.Before(victim.lastUsed)) {
			victim, victimExtra = s, extra
		}
	}
	if victim == nil {
		return false
	}
	e.closeIdleLocked(victim, 1)
	return true
}

// closeIdleLocked closes up to n idle runtimes of s, the coldest first.
func (e *Engine) closeIdleLocked(s *codeSet, n int) {
	n = min(n, len(s.idle))
	for _, w := range s.idle[:n] {
		w.close()
	}
	s.idle = append(s.idle[:0], s.idle[n:]...)
	s.total -= n
	e.total -= n
	if n > 0 {
		e.signalLocked()
	}
}

// dropLocked removes s from the engine: its idle runtimes close now, its
// busy ones when returned.
func (e *Engine) dropLocked(s *codeSet) {
	if s.dropped {
		return
	}
	s.dropped = true
	if e.sets[s.key.fnVersion] == s {
		delete(e.sets, s.key.fnVersion)
	}
	e.closeIdleLocked(s, len(s.idle))
	e.signalLocked() // Runs waiting on s must look again
}

// prewarm makes runtimes for s up to its target, within the bounds,
// evicting only other functions' runtimes beyond their targets. It runs
// no user code (see newWorker).
func (e *Engine) prewarm(s *codeSet, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	for {
		e.mu.Lock()
		if e.closed || s.dropped || s.total >= e.targetLocked(s) || s.total >= e.cfg.MaxWorkersPerFunction ||
			(e.total >= e.cfg.MaxWorkers && !e.evictLocked(s, true)) {
			e.mu.Unlock()
			return
		}
		s.total++
		e.total++
		e.mu.Unlock()
		w, err := e.newWorker(s.prog, timeout, s.key.memory)
		e.mu.Lock()
		switch {
		case err != nil:
			s.total--
			e.total--
			e.signalLocked()
			e.mu.Unlock()
			e.cfg.Logger.Warn("jsengine: cannot make a warm runtime", "function", s.key.function, "err", err)
			return
		case e.closed || s.dropped:
			s.total--
			e.total--
			w.close()
		default:
			s.idle = append([]*worker{w}, s.idle...) // cold: behind the warm ones
		}
		e.signalLocked()
		e.mu.Unlock()
	}
}

// Scale sets how many runtimes the function's latest code keeps ready
// (bounded by MaxWorkersPerFunction): it closes idle runtimes beyond the
// count, and makes them up to it now, reading code's package if it has
// not run on this engine yet.
func (e *Engine) Scale(code qinling.Code, workers int) {
	workers = min(max(workers, 0), e.cfg.MaxWorkersPerFunction)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.targets[code.FunctionID] = workers
	if s := e.sets[fnVersion{code.FunctionID, 0}]; s != nil && s.total > workers {
		e.closeIdleLocked(s, s.total-workers)
	}
	e.mu.Unlock()
	if workers == 0 {
		return
	}
	// codeSet makes the set (and prewarms it) if this code has none, and
	// drops a set of older code.
	s, err := e.codeSet(context.Background(), code, budgetOf(code))
	if err != nil || s.err != nil {
		return // closed, or code that cannot load: its runs report why
	}
	e.prewarm(s, code.Timeout)
}

// Workers names the runtimes, idle or running, of the function version's
// current code.
func (e *Engine) Workers(functionID string, version int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.sets[fnVersion{functionID, version}]
	if s == nil {
		return nil
	}
	select {
	case <-s.ready:
	default:
		return nil // still reading its package: no runtimes yet
	}
	var names []string
	for _, w := range s.idle {
		names = append(names, w.name)
	}
	for w := range e.running {
		if w.prog == s.prog {
			names = append(names, w.name)
		}
	}
	slices.Sort(names)
	return names
}

// Detach drops every runtime of the function (every version; busy ones
// when their execution ends) and forgets its scale: its next execution
// starts cold.
func (e *Engine) Detach(functionID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.targets, functionID)
	for fv, s := range e.sets {
		if fv.function == functionID {
			e.dropLocked(s)
		}
	}
}

// Pool reports the node's capacity as Qinling's runtime pool does: Total
// is MaxWorkers, Available what the runtimes of every function (warm or
// running) leave of it.
func (e *Engine) Pool() qinling.PoolInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	return qinling.PoolInfo{Total: e.cfg.MaxWorkers, Available: e.cfg.MaxWorkers - e.total}
}

// Available always reports nil: goja runs in the node's process.
func (e *Engine) Available() error { return nil }

// Close drops every runtime, interrupting executions in progress (which
// fail as stopped), and stops the memory guard the engine started. Later
// Runs fail with ErrClosed.
func (e *Engine) Close() error {
	e.closeMu.Do(func() {
		e.mu.Lock()
		e.closed = true
		for w := range e.running {
			w.rt.Interrupt(ErrClosed)
		}
		for _, s := range e.sets {
			e.dropLocked(s)
		}
		close(e.changed) // wake every waiter: they see closed
		e.changed = make(chan struct{})
		e.mu.Unlock()
		if e.stopMem != nil {
			e.stopMem()
			<-e.memDone
		}
	})
	return nil
}

// ctxField is one property of the handler's context argument.
type ctxField struct {
	name  string
	value any
}
