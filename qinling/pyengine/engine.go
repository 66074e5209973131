package pyengine

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"eventide/qinling"
)

// Errors of the engine.
var (
	// ErrUnavailable means this node cannot run Python (no python3, or
	// one that fails the probe); Available and Run wrap it with the
	// reason.
	ErrUnavailable = errors.New("pyengine: python3 is not available")
	// ErrClosed is returned by Run after Close.
	ErrClosed = errors.New("pyengine: engine closed")
	// ErrBadPackage means the function's zip cannot be unpacked safely.
	ErrBadPackage = errors.New("pyengine: bad package")
	// ErrBadEntry means the entry is not "module.function".
	ErrBadEntry = errors.New(`pyengine: entry must be "module.function"`)
	// ErrWorkerStart means a worker process did not come up.
	ErrWorkerStart = errors.New("pyengine: worker did not start")
)

// Qinling's python runtime's output messages, kept word for word because
// clients and tests match on them.
const (
	timeoutMessage  = "Function execution timeout."
	resourceMessage = "Function execution failed because of too much resource consumption"
)

//go:embed worker.py
var workerScript []byte

// entryPattern is a dotted module path and a function name.
var entryPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

// minPython is the oldest python3 the worker script runs on.
var minPython = [2]int{3, 6}

// codeKey names a pool: one function version. A new digest or memory size
// for the same key retires the pool and starts a new one.
type codeKey struct {
	fn      string
	version int
}

// pool is the warm workers of one code. Its fields other than the ones set
// at creation are guarded by Engine.mu.
type pool struct {
	key    codeKey
	digest string
	memory int64

	// ready is closed once dir and err are set (the unpack finished).
	ready chan struct{}
	dir   string
	err   error

	idle    []*worker            // LIFO: the most recently used is warmest
	workers map[*worker]struct{} // started and not yet dropped
	live    int                  // workers plus starts in progress
	retired bool
	removed bool // dir removed
}

// Engine runs Python functions in warm worker processes. It implements
// qinling.Engine.
type Engine struct {
	cfg    Config
	log    *slog.Logger
	python string // resolved interpreter path
	script string // worker.py's path
	ownDir bool   // WorkDir is a temporary folder Close removes
	avail  error  // nil when the engine can run code; set once by New

	mu     sync.Mutex
	pools  map[codeKey]*pool
	warm   map[string]int // Scale's warm counts, by function ID
	live   int            // workers of every pool, plus starts in progress
	closed bool
	wake   chan struct{} // closed and replaced when a worker frees up

	stop chan struct{} // closed by Close; stops the reaper
	wg   sync.WaitGroup
}

var _ qinling.Engine = (*Engine)(nil)

// New returns an engine. It never fails: an engine that cannot run Python
// says why in Available, and Run returns that error at once.
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "pyengine"),
		pools: make(map[codeKey]*pool),
		warm:  make(map[string]int),
		wake:  make(chan struct{}),
		stop:  make(chan struct{}),
	}
	e.avail = e.setup()
	if e.avail != nil {
		e.log.Warn("python functions unavailable", "err", e.avail)
		return e
	}
	e.log.Info("python functions available", "python", e.python, "workdir", e.cfg.WorkDir)
	e.wg.Add(1)
	go e.reaper()
	return e
}

// setup validates the config, finds and probes python3 and prepares the
// work folder.
func (e *Engine) setup() error {
	if err := e.cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	path, err := exec.LookPath(e.cfg.Python)
	if err != nil {
		return fmt.Errorf("%w: %s not found: %v", ErrUnavailable, e.cfg.Python, err)
	}
	exe, err := probe(path)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrUnavailable, path, err)
	}
	e.python = exe
	if e.cfg.WorkDir == "" {
		dir, err := os.MkdirTemp("", "eventide-pyengine-")
		if err != nil {
			return fmt.Errorf("%w: work folder: %v", ErrUnavailable, err)
		}
		e.cfg.WorkDir, e.ownDir = dir, true
	} else {
		if err := os.MkdirAll(e.cfg.WorkDir, 0o755); err != nil {
			return fmt.Errorf("%w: work folder: %v", ErrUnavailable, err)
		}
		// Packages of a previous run of the node are stale.
		old, _ := filepath.Glob(filepath.Join(e.cfg.WorkDir, "fn-*"))
		for _, d := range old {
			_ = os.RemoveAll(d)
		}
	}
	e.script = filepath.Join(e.cfg.WorkDir, "worker.py")
	if err := os.WriteFile(e.script, workerScript, 0o644); err != nil {
		return fmt.Errorf("%w: write worker script: %v", ErrUnavailable, err)
	}
	return nil
}

// probe runs the interpreter once: it must be python 3.6 or later with
// the modules the worker needs. It returns the interpreter's own
// executable, so workers skip wrappers such as pyenv's shims.
func probe(path string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-E", "-c",
		`import sys, json, resource, inspect, importlib; print("%d.%d" % sys.version_info[:2]); print(sys.executable)`)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("version probe failed: %v: %s", err, lastLine(string(ee.Stderr)))
		}
		return "", fmt.Errorf("version probe failed: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	major, minor, ok := strings.Cut(strings.TrimSpace(lines[0]), ".")
	maj, err1 := strconv.Atoi(major)
	min, err2 := strconv.Atoi(minor)
	if !ok || err1 != nil || err2 != nil {
		return "", fmt.Errorf("version probe printed %q", lines[0])
	}
	if maj != minPython[0] || min < minPython[1] {
		return "", fmt.Errorf("python %d.%d is not 3.6 or later", maj, min)
	}
	if len(lines) > 1 {
		if exe := strings.TrimSpace(lines[1]); exe != "" {
			if st, err := os.Stat(exe); err == nil && !st.IsDir() {
				return exe, nil
			}
		}
	}
	return path, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Available reports why this node cannot run Python functions, or nil.
func (e *Engine) Available() error { return e.avail }

// Run executes code once with inv on a warm worker, starting one if the
// code has none free. The function's failures (an exception, a timeout, a
// memory overrun) are a Result with Success false; an error means it did
// not run (python3 missing, a bad package or entry, ctx ended, Close).
func (e *Engine) Run(ctx context.Context, code qinling.Code, inv qinling.Invocation) (qinling.Result, error) {
	if e.avail != nil {
		return qinling.Result{}, e.avail
	}
	if err := ctx.Err(); err != nil {
		return qinling.Result{}, err
	}
	entry := code.Entry
	if entry == "" {
		entry = "main.main"
	}
	if !entryPattern.MatchString(entry) {
		return qinling.Result{}, fmt.Errorf("%w, not %q", ErrBadEntry, entry)
	}
	if code.FunctionID == "" {
		return qinling.Result{}, errors.New("pyengine: code has no function ID")
	}
	input := inv.Input
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	req, err := json.Marshal(struct {
		ID    string          `json:"id"`
		Entry string          `json:"entry"`
		Input json.RawMessage `json:"input"`
	}{inv.ExecutionID, entry, input})
	if err != nil {
		return qinling.Result{}, fmt.Errorf("pyengine: input is not JSON: %w", err)
	}
	req = append(req, '\n')
	timeout := code.Timeout
	if timeout <= 0 {
		timeout = e.cfg.DefaultTimeout
	}

	// A pool retired under us (its code was replaced by a newer digest
	// while we waited) is retried a few times; a run of old code that keeps
	// losing to new code gives up.
	for attempt := 0; ; attempt++ {
		p, err := e.poolFor(ctx, code)
		if err != nil {
			return qinling.Result{}, err
		}
		w, err := e.acquire(ctx, p)
		if errors.Is(err, errRetired) && attempt < 3 {
			continue
		}
		if err != nil {
			return qinling.Result{}, err
		}
		res, reusable, err := e.execute(ctx, w, inv.ExecutionID, req, timeout)
		e.release(w, reusable)
		return res, err
	}
}

// errRetired means the pool was retired before a worker could be taken.
var errRetired = errors.New("pyengine: code retired")

// poolFor returns the pool of code, creating it (and unpacking the
// package) if it has none, and retiring a pool of the same function
// version with other code.
func (e *Engine) poolFor(ctx context.Context, code qinling.Code) (*pool, error) {
	key := codeKey{code.FunctionID, code.Version}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	p := e.pools[key]
	var drop []string
	if p != nil && (p.digest != code.Digest || p.memory != code.MemoryBytes) {
		drop = e.retireLocked(p)
		delete(e.pools, key)
		p = nil
	}
	created := false
	if p == nil {
		p = &pool{
			key: key, digest: code.Digest, memory: code.MemoryBytes,
			ready: make(chan struct{}), workers: make(map[*worker]struct{}),
		}
		e.pools[key] = p
		created = true
	}
	e.mu.Unlock()
	removeDirs(drop)

	if created {
		dir, err := os.MkdirTemp(e.cfg.WorkDir, "fn-")
		if err == nil {
			err = unpack(code.Package, dir, e.cfg.MaxUnpackedBytes, e.cfg.MaxPackageFiles)
			if err != nil {
				err = fmt.Errorf("function %s version %d: %w", code.FunctionID, code.Version, err)
			}
		} else {
			err = fmt.Errorf("pyengine: unpack folder: %w", err)
		}
		p.dir, p.err = dir, err
		close(p.ready)
		e.mu.Lock()
		if err != nil && e.pools[key] == p {
			// A bad package is not cached: the next run tries again (and
			// fails again, unless the folder was the problem).
			delete(e.pools, key)
			p.retired = true
		}
		drop = e.removableLocked(p)
		warm := e.warmLocked(key.fn)
		e.mu.Unlock()
		removeDirs(drop)
		if err == nil && warm > 1 {
			// The run itself starts one worker; the rest of the warm count
			// start beside it.
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				e.grow(p, warm)
			}()
		}
	}
	select {
	case <-p.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if p.err != nil {
		return nil, p.err
	}
	return p, nil
}

// warmLocked is the warm count of a function.
func (e *Engine) warmLocked(fn string) int {
	if n, ok := e.warm[fn]; ok {
		return n
	}
	return e.cfg.WarmWorkers
}

// acquire takes an idle worker of p, starts one if p and the node have
// room (stopping another function's idle worker if only the node is
// full), or waits for one to free up.
func (e *Engine) acquire(ctx context.Context, p *pool) (*worker, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return nil, ErrClosed
		}
		if p.retired {
			e.mu.Unlock()
			return nil, errRetired
		}
		if n := len(p.idle); n > 0 {
			w := p.idle[n-1]
			p.idle = p.idle[:n-1]
			e.mu.Unlock()
			return w, nil
		}
		var drop []string
		room := p.live < e.cfg.MaxWorkersPerFunction
		if room && e.live >= e.cfg.MaxWorkers {
			drop, room = e.evictLocked(p)
		}
		if room {
			p.live++
			e.live++
			e.mu.Unlock()
			removeDirs(drop)
			return e.start(ctx, p)
		}
		wake := e.wake
		e.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// evictLocked stops the least recently used idle worker of a pool other
// than p, to make room on a full node.
func (e *Engine) evictLocked(p *pool) ([]string, bool) {
	var victim *worker
	for _, q := range e.pools {
		if q == p || len(q.idle) == 0 {
			continue
		}
		if w := q.idle[0]; victim == nil || w.lastUsed.Before(victim.lastUsed) {
			victim = w
		}
	}
	if victim == nil {
		return nil, false
	}
	drop := e.dropLocked(victim)
	victim.kill()
	return drop, true
}

// release returns w to its pool, or stops it if it cannot be reused.
func (e *Engine) release(w *worker, reusable bool) {
	e.mu.Lock()
	p := w.pool
	if !reusable || p.retired || e.closed || w.gone() {
		drop := e.dropLocked(w)
		e.mu.Unlock()
		w.kill()
		removeDirs(drop)
		return
	}
	w.lastUsed = time.Now()
	p.idle = append(p.idle, w)
	e.wakeLocked()
	e.mu.Unlock()
}

// dropLocked forgets w (it is dead or about to be killed); it returns
// the pool's folder if it should now be removed. Idempotent.
func (e *Engine) dropLocked(w *worker) []string {
	if w.dropped {
		return nil
	}
	w.dropped = true
	p := w.pool
	delete(p.workers, w)
	for i, x := range p.idle {
		if x == w {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			break
		}
	}
	p.live--
	e.live--
	e.wakeLocked()
	return e.removableLocked(p)
}

// retireLocked stops p's idle workers and marks it so its busy ones stop
// when their executions end. The caller removes p from e.pools.
func (e *Engine) retireLocked(p *pool) []string {
	p.retired = true
	var drop []string
	for len(p.idle) > 0 {
		w := p.idle[0]
		drop = append(drop, e.dropLocked(w)...)
		w.kill()
	}
	e.wakeLocked()
	return append(drop, e.removableLocked(p)...)
}

// removableLocked returns p's folder once p is retired, unpacked and has
// no workers left, and only once.
func (e *Engine) removableLocked(p *pool) []string {
	if !p.retired || p.live > 0 || p.removed {
		return nil
	}
	select {
	case <-p.ready:
	default:
		return nil // poolFor calls again once the unpack ends
	}
	p.removed = true
	if p.dir == "" {
		return nil
	}
	return []string{p.dir}
}

func (e *Engine) wakeLocked() {
	close(e.wake)
	e.wake = make(chan struct{})
}

func removeDirs(dirs []string) {
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// Scale sets how many warm workers each code of the function keeps:
// workers start now up to that count (within MaxWorkersPerFunction and
// MaxWorkers), for code (the function's latest code) too when it has not
// run yet, and idle ones beyond it stop now; busy ones beyond it stop
// when idle for IdleTimeout. Scale returns once the starts are done.
func (e *Engine) Scale(code qinling.Code, workers int) {
	if e.avail != nil {
		return
	}
	functionID := code.FunctionID
	workers = max(0, min(workers, e.cfg.MaxWorkersPerFunction))
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.warm[functionID] = workers
	var grow []*pool
	var drop []string
	for _, p := range e.pools {
		if p.key.fn != functionID || p.retired {
			continue
		}
		for p.live > workers && len(p.idle) > 0 {
			w := p.idle[0]
			drop = append(drop, e.dropLocked(w)...)
			w.kill()
		}
		if p.live < workers {
			grow = append(grow, p)
		}
	}
	e.mu.Unlock()
	removeDirs(drop)
	if workers > 0 && functionID != "" && entryPattern.MatchString(cmp.Or(code.Entry, "main.main")) {
		// The code's pool, made (and its package unpacked) if it has not
		// run yet, or replacing a pool of older code; a bad package is
		// left for its runs to report.
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.StartTimeout)
		p, err := e.poolFor(ctx, code)
		cancel()
		if err == nil && !slices.Contains(grow, p) {
			grow = append(grow, p)
		}
	}
	for _, p := range grow {
		select {
		case <-p.ready:
			if p.err == nil {
				e.grow(p, workers)
			}
		default:
			// Still unpacking: poolFor starts the warm count when done.
		}
	}
}

// Workers names the workers, idle or busy, of the function version's
// current code.
func (e *Engine) Workers(functionID string, version int) []string {
	if e.avail != nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.pools[codeKey{functionID, version}]
	if p == nil {
		return nil
	}
	var names []string
	for w := range p.workers {
		names = append(names, w.name)
	}
	slices.Sort(names)
	return names
}

// grow starts workers of p until it has n (within the bounds), and
// leaves them idle.
func (e *Engine) grow(p *pool, n int) {
	for {
		e.mu.Lock()
		if e.closed || p.retired || p.live >= n || p.live >= e.cfg.MaxWorkersPerFunction || e.live >= e.cfg.MaxWorkers {
			e.mu.Unlock()
			return
		}
		p.live++
		e.live++
		e.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.StartTimeout)
		w, err := e.start(ctx, p)
		cancel()
		if err != nil {
			e.log.Warn("warm worker did not start", "function", p.key.fn, "version", p.key.version, "err", err)
			return
		}
		e.release(w, true)
	}
}

// Detach stops every worker of the function and forgets its warm count;
// its next execution starts afresh.
func (e *Engine) Detach(functionID string) {
	if e.avail != nil {
		return
	}
	e.mu.Lock()
	delete(e.warm, functionID)
	var drop []string
	for key, p := range e.pools {
		if key.fn == functionID {
			drop = append(drop, e.retireLocked(p)...)
			delete(e.pools, key)
		}
	}
	e.mu.Unlock()
	removeDirs(drop)
}

// Pool reports the node's worker capacity: Total is MaxWorkers, Available
// how many more workers could start (Qinling's pods not yet bound to a
// function). An unavailable engine has no capacity.
func (e *Engine) Pool() qinling.PoolInfo {
	if e.avail != nil {
		return qinling.PoolInfo{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return qinling.PoolInfo{Total: e.cfg.MaxWorkers, Available: max(0, e.cfg.MaxWorkers-e.live)}
}

// reaper stops idle workers beyond their function's warm count once they
// have been idle for IdleTimeout.
func (e *Engine) reaper() {
	defer e.wg.Done()
	tick := time.NewTicker(max(e.cfg.IdleTimeout/2, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-tick.C:
			e.reap(now)
		}
	}
}

func (e *Engine) reap(now time.Time) {
	e.mu.Lock()
	var drop []string
	for _, p := range e.pools {
		keep := e.warmLocked(p.key.fn)
		// idle is LIFO, so its front is the longest idle.
		for p.live > keep && len(p.idle) > 0 && now.Sub(p.idle[0].lastUsed) >= e.cfg.IdleTimeout {
			w := p.idle[0]
			drop = append(drop, e.dropLocked(w)...)
			w.kill()
		}
	}
	e.mu.Unlock()
	removeDirs(drop)
}

// Close stops every worker, busy or idle, and waits for them to exit.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	var drop []string
	var busy []*worker
	for key, p := range e.pools {
		drop = append(drop, e.retireLocked(p)...)
		for w := range p.workers {
			busy = append(busy, w)
		}
		delete(e.pools, key)
	}
	e.wakeLocked()
	e.mu.Unlock()
	for _, w := range busy {
		w.kill()
	}
	if e.avail == nil {
		close(e.stop)
	}
	e.wg.Wait()
	removeDirs(drop)
	if e.ownDir {
		return os.RemoveAll(e.cfg.WorkDir)
	}
	return nil
}
