package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"

	"eventide/docstore"
	"eventide/jsrt"
)

// Config configures a Worker.
type Config struct {
	// FunctionName names the function in logs.
	FunctionName string
	// FunctionInstanceID, when set, suppresses events whose document was
	// last written by this function instance (docstore.Document.Origin), so a
	// handler's writes to its own source keyspace do not retrigger it;
	// suppressed events are counted (dcp_*_suppressed_counter). "" disables
	// suppression.
	FunctionInstanceID string
	// Bindings are the bucket bindings; nil means the Program's. When set,
	// they must have the same aliases as the Program's (keyspaces and access
	// may differ, e.g. the source binding made read-only).
	Bindings []Binding
	// Settings: ExecutionTimeout, LanguageCompatibility, OnDeployTimeout
	// and TimerContextSize apply; zero values mean the Program's. Headers
	// and footers are fixed at Compile.
	Settings Settings
	// AppLog receives log() lines and reports of failed invocations; nil
	// discards them.
	AppLog *AppLog
	// Stats receives the counters; nil gives the worker private counters.
	Stats *Stats
	// Insight receives code insight (exceptions and logs per line); nil
	// records none. Several workers may share one (it is safe for
	// concurrent use), or each record its own and merge (MergeInto).
	Insight *Insight
	// Logger is the system log; nil discards.
	Logger *slog.Logger
	// Memory, when set, stops invocations over Settings.MemoryBudget.
	Memory *MemoryGuard
	// Querier runs the handler's SQL++ statements (N1QL(), inline
	// statements); nil makes them throw an N1QLError saying no query
	// service is configured.
	Querier Querier
}

// Validate checks the settings and bindings of the Config.
func (c Config) Validate() error {
	if err := c.Settings.Validate(); err != nil {
		return err
	}
	if c.Bindings != nil {
		if _, err := normalizeBindings(c.Bindings); err != nil {
			return err
		}
	}
	return nil
}

// invocation is the state of the handler invocation in progress, read by the
// JavaScript API (bucket accessors now; timers and curl later).
type invocation struct {
	ctx   context.Context
	store Store
	entry string
	key   string
	// keyspace is the event's source keyspace (zero for timers and
	// OnDeploy), for SQL++ statements.
	keyspace docstore.Keyspace
}

// Worker runs one function's handler in one goja runtime. It is not safe for
// concurrent use: a worker handles one event at a time (the supervisor gives
// each worker a fixed share of the vbuckets, so one key's events stay in
// order).
type Worker struct {
	p       *Program
	name    string
	fiid    string
	lang    langVersion
	stats   *Stats
	appLog  *AppLog
	insight *Insight
	logger  *slog.Logger

	// onDeployTimeout bounds OnDeploy; timerContextSize bounds createTimer's
	// context JSON, in bytes (deploy.go, js_timers.go).
	onDeployTimeout  time.Duration
	timerContextSize int
	tm               timerRuntime // js_timers.go: FireTimer's and OnDeploy's trampolines
	q                queryState   // js_n1ql.go: the querier and the open statements

	// rt is the runtime and its invocation control (timeout, context,
	// memory budget); vm is rt's goja runtime, new after each boot.
	rt            *jsrt.Runtime
	vm            *goja.Runtime
	onUpdateValue goja.Value // the handler's OnUpdate, nil if none
	onDeleteValue goja.Value // the handler's OnDelete, nil if none
	errs          errorClasses
	dp            dispatcher
	bindings      map[*goja.Object]*bucketBinding // by alias object
	cache         *bucketCache                    // couchbase.get's {cache: true}
	baseGlobals   map[string]bool                 // enumerable globals after the first run (js_rules.go)
	stackBuf      []goja.StackFrame               // reused by insightRecordLog (insight.go)
	runBindings   []Binding

	inv          invocation
	broken       error
	closed       bool
	appLogFailed bool
	// lastSysLog and sysLogSkipped rate-limit failure reports (see report).
	lastSysLog    time.Time
	sysLogSkipped int
}

// NewWorker creates a runtime, installs the JavaScript API and the bindings,
// and runs the program once (defining the handler's functions and constants)
// under the execution timeout. An exception or timeout there gives an
// *InvocationError with Entry "init".
func NewWorker(p *Program, cfg Config) (*Worker, error) {
	if p == nil || p.prog == nil {
		return nil, fmt.Errorf("%w: nil program", ErrInvalidSettings)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := cfg.Settings
	if s.ExecutionTimeout == 0 {
		s.ExecutionTimeout = p.settings.ExecutionTimeout
	}
	if s.LanguageCompatibility == "" {
		s.LanguageCompatibility = p.settings.LanguageCompatibility
	}
	if s.OnDeployTimeout == 0 {
		s.OnDeployTimeout = p.settings.OnDeployTimeout
	}
	if s.TimerContextSize == 0 {
		s.TimerContextSize = p.settings.TimerContextSize
	}
	if s.MemoryBudget == 0 {
		s.MemoryBudget = p.settings.MemoryBudget
	}
	if s.LCBInstCapacity == 0 {
		s.LCBInstCapacity = p.settings.LCBInstCapacity
	}
	lang, _ := parseLang(s.LanguageCompatibility)
	bindings := p.bindings
	if cfg.Bindings != nil {
		nb, _ := normalizeBindings(cfg.Bindings)
		if !sameAliases(nb, p.bindings) {
			return nil, fmt.Errorf("%w: worker bindings %v do not match the program's %v",
				ErrInvalidBinding, aliasesOf(nb), aliasesOf(p.bindings))
		}
		bindings = nb
	}
	w := &Worker{
		p:       p,
		name:    cfg.FunctionName,
		fiid:    cfg.FunctionInstanceID,
		lang:    lang,
		stats:   cfg.Stats,
		appLog:  cfg.AppLog,
		insight: cfg.Insight,
		logger:  cfg.Logger,

		onDeployTimeout:  s.OnDeployTimeout,
		timerContextSize: s.TimerContextSize,
		runBindings:      bindings,
		q:                queryState{querier: cfg.Querier, capacity: s.LCBInstCapacity},
	}
	if w.stats == nil {
		w.stats = NewStats()
	}
	if w.logger == nil {
		w.logger = slog.New(slog.DiscardHandler)
	}
	w.logger = w.logger.With("component", "handler", "function", w.name)
	w.rt = jsrt.New(jsrt.Config{Timeout: s.ExecutionTimeout, MemoryBudget: s.MemoryBudget, Memory: cfg.Memory})
	if err := w.boot(); err != nil {
		w.rt.Close()
		return nil, err
	}
	return w, nil
}

// rebuildRuntime replaces the runtime after an invocation over its memory
// budget, whose garbage the old one may still reach (a global, a closure),
// and returns the memory to the operating system.
func (w *Worker) rebuildRuntime() {
	if err := w.boot(); err != nil {
		w.broken = fmt.Errorf("%w: rebuilding the runtime after a memory budget overrun: %v", ErrWorkerBroken, err)
		return
	}
	jsrt.ReleaseMemory()
}

// boot creates a fresh runtime with the JavaScript API and runs the
// program in it (NewWorker, and after an invocation over its memory
// budget, whose garbage may still be reachable from the old runtime).
func (w *Worker) boot() error {
	w.bindings, w.baseGlobals, w.onUpdateValue, w.onDeleteValue = nil, nil, nil, nil
	if err := w.install(w.runBindings); err != nil {
		return fmt.Errorf("handler: install JavaScript API: %w", err)
	}
	err := w.run(context.Background(), "init", "", nil, func() error {
		if _, err := w.vm.RunProgram(w.p.prog); err != nil {
			return err
		}
		return w.guardGlobals() // js_rules.go
	})
	if err != nil {
		var ie *InvocationError
		if errors.As(err, &ie) {
			w.report(ie)
		}
		return err
	}
	if v := w.vm.Get(entryOnUpdate); jsrt.IsFunction(v) {
		w.onUpdateValue = v
	}
	if v := w.vm.Get(entryOnDelete); jsrt.IsFunction(v) {
		w.onDeleteValue = v
	}
	return nil
}

func aliasesOf(bs []Binding) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Alias
	}
	slices.Sort(out)
	return out
}

func sameAliases(a, b []Binding) bool { return slices.Equal(aliasesOf(a), aliasesOf(b)) }

// apiInstallers add the JavaScript API, one per area (the js_*.go files,
// some over jsrt's installers), in an order where each finds what it
// needs: the guards first, the error classes before log and curl.
var apiInstallers = []func(*Worker) error{
	(*Worker).installGuards,   // jsrt: bounded regexp, JSON and array built-ins
	(*Worker).installDispatch, // js_meta.go: entry-point trampolines
	(*Worker).installErrors,   // js_errors.go over jsrt: EventingError, KVError, ...
	(*Worker).installLog,      // js_log.go over jsrt: log
	(*Worker).installAdvanced, // js_advanced.go: couchbase.get/insert/...
	(*Worker).installCurl,     // js_curl.go over jsrt: curl and the curl binding globals
	(*Worker).installBuiltins, // js_builtins.go over jsrt: crc64, couchbase.base64*, ...
	(*Worker).installTimers,   // js_timers.go: createTimer, cancelTimer
	(*Worker).installN1QL,     // js_n1ql.go: N1QL, N1qlQuery, couchbase.n1qlQuery
}

// installGuards wraps the built-ins whose work happens in Go (jsrt).
func (w *Worker) installGuards() error { return w.rt.InstallGuards() }

// install gives the worker a fresh goja runtime and its globals.
func (w *Worker) install(bindings []Binding) error {
	w.rt.Reset()
	w.vm = w.rt.VM()
	for _, install := range apiInstallers {
		if err := install(w); err != nil {
			return err
		}
	}
	for _, b := range bindings {
		if err := w.vm.Set(b.Alias, w.newBucketProxy(b)); err != nil {
			return err
		}
	}
	return nil
}

// Handle dispatches one stream event: mutations to OnUpdate(doc, meta,
// xattrs), deletions and expirations to OnDelete(meta, {expired}). Events
// with no matching entry point, binary documents under language
// compatibility 6.0.0/6.5.0 and (with FunctionInstanceID set) the function's
// own writes are skipped and counted. It returns nil on success, an
// *InvocationError for an uncaught exception, a timeout (both already
// counted and written to the application and system logs) or an interruption
// by ctx (not counted: the caller is stopping and will redeliver), and
// ErrInvalidEvent, ErrWorkerClosed or ErrWorkerBroken otherwise.
func (w *Worker) Handle(ctx context.Context, ev docstore.Event, st Store) error {
	if ev.Doc == nil {
		return fmt.Errorf("%w: event without a document", ErrInvalidEvent)
	}
	if err := w.ready(ctx, EntryPoint(ev.Kind), ev.Doc.Key, st); err != nil {
		return err
	}
	d := ev.Doc
	switch ev.Kind {
	case docstore.EventMutation:
		w.stats.inc(statDCPMutationMsg)
		if w.fiid != "" && d.Origin == w.fiid {
			w.stats.inc(statDCPMutationSuppressed)
			return nil
		}
		if d.Datatype == docstore.DatatypeBinary && w.lang < lang662 {
			w.stats.inc(statFilteredDCPMutation)
			return nil
		}
		if w.onUpdateValue == nil {
			return nil
		}
		w.stats.inc(statMessagesParsed)
		err := w.run(ctx, entryOnUpdate, d.Key, st, func() error {
			w.inv.keyspace = ev.Keyspace
			return w.callUpdate(ev.Keyspace, d)
		})
		return w.finish(err, statOnUpdateSuccess, statOnUpdateFailure)
	case docstore.EventDeletion, docstore.EventExpiration:
		w.stats.inc(statDCPDeleteMsg)
		if w.fiid != "" && d.Origin == w.fiid {
			w.stats.inc(statDCPDeletionSuppressed)
			return nil
		}
		if w.onDeleteValue == nil {
			return nil
		}
		w.stats.inc(statMessagesParsed)
		expired := ev.Kind == docstore.EventExpiration || d.Expired
		err := w.run(ctx, entryOnDelete, d.Key, st, func() error {
			w.inv.keyspace = ev.Keyspace
			return w.callDelete(ev.Keyspace, d, expired)
		})
		return w.finish(err, statOnDeleteSuccess, statOnDeleteFailure)
	}
	return fmt.Errorf("%w: unknown event kind %d", ErrInvalidEvent, ev.Kind)
}

// ready checks what every entry point (Handle, FireTimer, OnDeploy) needs
// before it runs JavaScript: an open, unbroken worker, a store, and a live
// ctx (an *InvocationError with Message "not started" otherwise).
func (w *Worker) ready(ctx context.Context, entry, key string, st Store) error {
	switch {
	case w.closed:
		return ErrWorkerClosed
	case w.broken != nil:
		return w.broken
	case st == nil:
		return fmt.Errorf("%w: nil store", ErrInvalidEvent)
	}
	if err := ctx.Err(); err != nil {
		return &InvocationError{Entry: entry, Key: key, Message: "not started", Err: err}
	}
	return nil
}

// EntryPoint names the handler function an event of kind k goes to.
func EntryPoint(k docstore.EventKind) string {
	if k == docstore.EventMutation {
		return entryOnUpdate
	}
	return entryOnDelete
}

// finish counts and reports an invocation's outcome.
func (w *Worker) finish(err error, success, failure stat) error {
	if err == nil {
		w.stats.inc(success)
		w.stats.inc(statNumProcessedEvents)
		return nil
	}
	var ie *InvocationError
	if !errors.As(err, &ie) { // the worker broke
		w.stats.inc(failure)
		return err
	}
	switch {
	case errors.Is(ie.Err, ErrTimeout):
		w.stats.inc(statTimeout)
	case errors.Is(ie.Err, ErrMemoryBudget):
		w.stats.inc(statMemoryBudget)
		defer w.rebuildRuntime() // after the report: drop what the invocation built
	case errors.Is(ie.Err, ErrException):
	default: // interrupted by the caller's context: not the handler's fault
		return err
	}
	w.stats.inc(failure)
	w.stats.inc(statNumProcessedEvents)
	w.insightRecordFailure(ie)
	w.report(ie)
	return err
}

// sysLogInterval spaces a worker's reports of failed invocations in the
// system log: a handler failing on every event must not flood it (the
// application log still gets every failure).
const sysLogInterval = time.Second

// report writes a failed invocation to the application and system logs.
func (w *Worker) report(ie *InvocationError) {
	w.writeAppLog("ERROR", strings.TrimPrefix(ie.Error(), "handler: "))
	now := time.Now()
	if !w.lastSysLog.IsZero() && now.Sub(w.lastSysLog) < sysLogInterval {
		w.sysLogSkipped++
		return
	}
	w.logger.Warn("handler invocation failed", "entry", ie.Entry, "key", ie.Key,
		"line", ie.Line, "column", ie.Column, "message", ie.Message, "error", ie.Err,
		"unreported_failures", w.sysLogSkipped)
	w.lastSysLog, w.sysLogSkipped = now, 0
}

// Close releases the worker; later Handle calls fail with ErrWorkerClosed.
func (w *Worker) Close() {
	w.rt.Close()
	w.closed = true
}

// run executes call as one invocation: with the invocation state set, under
// the execution timeout and ctx, turning a JavaScript failure into an
// *InvocationError. A Go panic escaping goja (a bug) marks the worker broken
// rather than crashing the node.
func (w *Worker) run(ctx context.Context, entry, key string, st Store, call func() error) (err error) {
	w.inv = invocation{ctx: ctx, store: st, entry: entry, key: key}
	w.rt.Begin(ctx)
	defer func() {
		if r := recover(); r != nil {
			w.closeQueries()
			w.rt.End()
			w.inv = invocation{}
			w.broken = fmt.Errorf("%w: %s: %v", ErrWorkerBroken, entry, r)
			w.logger.Error("handler runtime panicked", "entry", entry, "key", key,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = w.broken
		}
	}()
	var ie *InvocationError
	if cerr := call(); cerr != nil {
		// Describing the exception may run user code (toString), so it is
		// done while the timeout still applies.
		ie = w.describeFailure(entry, key, cerr)
	}
	w.closeQueries()
	w.rt.End()
	w.inv = invocation{}
	w.dropNewGlobals()
	if ie != nil {
		return ie
	}
	return nil
}

// describeFailure turns an error from goja into an *InvocationError.
func (w *Worker) describeFailure(entry, key string, err error) *InvocationError {
	ie := &InvocationError{Entry: entry, Key: key, Err: ErrException}
	var frames []goja.StackFrame
	var ex *goja.Exception
	var intr *goja.InterruptedError
	var so *goja.StackOverflowError
	switch {
	case errors.As(err, &intr):
		frames = intr.Stack()
		ie.Err = jsrt.InterruptCause(intr)
		switch {
		case errors.Is(ie.Err, jsrt.ErrRegexLimit):
			ie.Message = "execution_timeout: a regular expression match ran longer than " + jsrt.RegexMatchLimit.String() +
				" (catastrophic backtracking)"
		case errors.Is(ie.Err, ErrTimeout):
			ie.Message = "execution_timeout of " + w.rt.Timeout().String() + " exceeded"
		case errors.Is(ie.Err, ErrMemoryBudget):
			ie.Message = fmt.Sprintf("memory budget of %d MiB exceeded", w.rt.MemoryBudget()>>20)
		default:
			ie.Message = "interrupted: " + ie.Err.Error()
		}
	case errors.As(err, &so):
		frames = so.Stack()
		ie.Message = "RangeError: Maximum call stack size exceeded"
	case errors.As(err, &ex):
		frames = ex.Stack()
		ie.Message = w.rt.Describe(ex.Value())
	default:
		ie.Message = err.Error()
	}
	ie.Line, ie.Column, ie.Stack = w.locate(frames)
	return ie
}

// locate finds the innermost frame in the user's code and renders the stack
// with user line numbers.
func (w *Worker) locate(frames []goja.StackFrame) (line, col int, stack string) {
	var b strings.Builder
	for i := range frames {
		f := &frames[i]
		pos := f.Position()
		fl, fc, inUser := 0, 0, false
		if pos.Filename == handlerFileName {
			fl, fc, inUser = w.p.userPos(pos.Line, pos.Column)
		}
		if inUser && line == 0 {
			line, col = fl, fc
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("at ")
		name := f.FuncName()
		if name == "" {
			name = "<anonymous>"
		}
		b.WriteString(name)
		switch {
		case inUser:
			b.WriteString(" (" + handlerFileName + ":" + strconv.Itoa(fl) + ":" + strconv.Itoa(fc) + ")")
		case pos.Filename != "":
			b.WriteString(" (" + pos.Filename + ":" + strconv.Itoa(pos.Line) + ":" + strconv.Itoa(pos.Column) + ")")
		default:
			b.WriteString(" (native)")
		}
	}
	return line, col, b.String()
}

// Stats returns the counters the worker updates.
func (w *Worker) Stats() *Stats { return w.stats }
