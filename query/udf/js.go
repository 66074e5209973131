package udf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"

	"eventide/jsrt"
	"eventide/query/engine"
	"eventide/query/library"
	"eventide/query/value"
)

// runner runs JavaScript functions on warm runtimes: a pool per compiled
// program, each runtime having run its program once.
type runner struct {
	cfg  Config
	rec  Records
	libs Libraries

	mu     sync.RWMutex
	pools  map[*goja.Program]*pool
	tick   atomic.Uint64            // use clock of the pools, for LRU
	inline map[string]*goja.Program // inline functions' code, compiled
	// progs are the library programs looked up since the records last
	// changed (their changed channel is open).
	progs map[progKey]progEntry
}

type progKey struct {
	sc      library.Scope
	lib, fn string
}

type progEntry struct {
	p       library.Program
	changed <-chan struct{}
}

// pool holds the warm runtimes of one program.
type pool struct {
	prog *goja.Program
	// owner is the library's path ("" for inline code) and version the
	// library version the program was compiled from.
	owner   string
	version uint64
	used    atomic.Uint64 // runner.tick at the last call

	idle  chan *warm    // free runtimes
	slots chan struct{} // one token per live runtime, bounding them
	mu    sync.Mutex    // orders release against close
	dead  bool          // closed: runtimes are closed on release
}

// warm is one runtime that has run its pool's program.
type warm struct {
	rt *jsrt.Runtime
	// stringify is the guarded JSON.stringify, taken before user code
	// could replace the global.
	stringify goja.Callable
	// objectProto is the original Object.prototype, given to the objects
	// made from arguments.
	objectProto *goja.Object
}

func newRunner(cfg Config) *runner {
	return &runner{cfg: cfg, rec: cfg.Records, libs: cfg.Libraries, pools: make(map[*goja.Program]*pool),
		inline: make(map[string]*goja.Program), progs: make(map[progKey]progEntry)}
}

// CallJavaScript runs a JavaScript function with its arguments, bounded
// by ctx, the configured timeout and memory budget: the value it returns
// (undefined is MISSING; JSON semantics otherwise) or an *Error (10109 for
// what it threw, a missing library or function, a timeout).
func (s *Service) CallJavaScript(ctx context.Context, def engine.FunctionDef, args []value.Value) (value.Value, error) {
	return s.js.call(ctx, def, args)
}

// target is what a call runs: a program, the global function to call
// after it, and how errors name them.
type target struct {
	prog    *goja.Program
	owner   string
	version uint64
	fn      string
}

// where names a function's code as Couchbase's execution errors do:
// "(library:object)", or for an inline function its full name and name.
func where(def engine.FunctionDef) string {
	if def.Code != "" {
		return "(" + displayName(def.Name) + ":" + def.Name.Name + ")"
	}
	return "(" + libName(def.Library) + ":" + def.Object + ")"
}

func (r *runner) call(ctx context.Context, def engine.FunctionDef, args []value.Value) (out value.Value, err error) {
	if def.Language != engine.LanguageJavaScript {
		return value.MissingValue, newError(ErrInvalidDefinition, codeEncoding, nil, "Function '%s' is not a JavaScript function", def.Name.Name)
	}
	if !def.Variadic && len(args) != len(def.Params) {
		return value.MissingValue, newError(ErrArguments, codeArguments, nil, "Incorrect number of arguments supplied to function '%s'", def.Name.Name)
	}
	if err := ctx.Err(); err != nil {
		return value.MissingValue, r.fail(def, err)
	}
	t, err := r.resolve(def)
	if err != nil {
		return value.MissingValue, err
	}
	p := r.pool(t)
	w, err := p.acquire(ctx, r)
	if err != nil {
		return value.MissingValue, r.fail(def, err)
	}
	keep := false
	defer func() {
		if rec := recover(); rec != nil {
			keep = false
			out, err = value.MissingValue, r.fail(def, fmt.Errorf("internal error: %v", rec))
		}
		if keep {
			p.release(w)
		} else {
			p.discard(w)
		}
	}()
	out, keep, err = w.invoke(ctx, t.fn, args)
	if err != nil {
		return value.MissingValue, r.fail(def, err)
	}
	return out, nil
}

// resolve finds the program of a definition.
func (r *runner) resolve(def engine.FunctionDef) (target, error) {
	if def.Code != "" {
		prog, err := r.inlineProgram(def)
		if err != nil {
			return target{}, err
		}
		// Couchbase names an inline function's "library" by the
		// function's full path, and calls the function of its own name.
		return target{prog: prog, fn: def.Name.Name}, nil
	}
	t := target{fn: def.Object}
	sc, lib, err := library.ResolvePath(scopeOf(def.Name), def.Library)
	if err != nil {
		return target{}, newError(ErrLibraryPath, codeLibraryPath, nil, "%s", err.Error())
	}
	t.owner = lib
	if !sc.IsGlobal() {
		t.owner = sc.Bucket + "/" + sc.Scope + "/" + lib
	}
	p, err := r.program(sc, lib, def.Object)
	if err != nil {
		if errors.Is(err, library.ErrNotFound) {
			r.dropOwner(t.owner, math.MaxUint64)
		}
		return target{}, r.fail(def, err)
	}
	t.prog, t.version = p.Program, p.Version
	return t, nil
}

// program is the library's Program, from the programs looked up since
// the records last changed when it is there.
func (r *runner) program(sc library.Scope, lib, fn string) (library.Program, error) {
	key := progKey{sc, lib, fn}
	r.mu.RLock()
	e, ok := r.progs[key]
	r.mu.RUnlock()
	if ok {
		select {
		case <-e.changed:
		default:
			return e.p, nil
		}
	}
	changed := r.rec.RecordsChanged() // before the lookup, so no change is missed
	p, err := r.libs.Program(sc, lib, fn)
	if err != nil {
		return p, err
	}
	r.mu.Lock()
	if len(r.progs) >= 4*r.cfg.MaxPrograms {
		clear(r.progs)
	}
	r.progs[key] = progEntry{p, changed}
	r.mu.Unlock()
	return p, nil
}

// libName is the library's name in a path ("./lib" and "b/s/lib" are lib).
func libName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// inlineProgram compiles an inline JavaScript function's code, once.
func (r *runner) inlineProgram(def engine.FunctionDef) (*goja.Program, error) {
	r.mu.RLock()
	prog := r.inline[def.Code]
	r.mu.RUnlock()
	if prog != nil {
		return prog, nil
	}
	loadErr := func(msg string) error {
		return newError(ErrLoad, codeLoading, map[string]any{"function": def.Name.Name, "reason": msg}, "Error loading function '%s'", def.Name.Name)
	}
	ast, err := jsrt.Parse(displayName(def.Name), def.Code)
	if err != nil {
		return nil, loadErr("SyntaxError: " + err.Error())
	}
	prog, err = jsrt.CompileAST(ast, false)
	if err != nil {
		return nil, loadErr(err.Error())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.inline) >= r.cfg.MaxPrograms {
		for code := range r.inline { // any one: recompiling is cheap
			delete(r.inline, code)
			break
		}
	}
	r.inline[def.Code] = prog
	return prog, nil
}

// pool returns the pool of t's program, making it: a newer library
// version closes the pools of older ones, and beyond MaxPrograms the
// least recently used pool is closed.
func (r *runner) pool(t target) *pool {
	now := r.tick.Add(1)
	r.mu.RLock()
	p := r.pools[t.prog]
	r.mu.RUnlock()
	if p != nil {
		p.used.Store(now)
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.pools[t.prog]; p != nil {
		p.used.Store(now)
		return p
	}
	n := r.cfg.RuntimesPerProgram
	p = &pool{prog: t.prog, owner: t.owner, version: t.version, idle: make(chan *warm, n), slots: make(chan struct{}, n)}
	p.used.Store(now)
	var lru *pool
	for _, o := range r.pools {
		if t.owner != "" && o.owner == t.owner {
			switch {
			case o.version < t.version:
				r.closeLocked(o)
				continue
			case o.version > t.version:
				p.close() // a call that read an older version: served, not kept
				return p
			}
		}
		if lru == nil || o.used.Load() < lru.used.Load() {
			lru = o
		}
	}
	if len(r.pools) >= r.cfg.MaxPrograms && lru != nil {
		r.closeLocked(lru)
	}
	r.pools[t.prog] = p
	return p
}

// dropOwner closes the pools of a library's versions before version.
func (r *runner) dropOwner(owner string, version uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pools {
		if p.owner == owner && p.version < version {
			r.closeLocked(p)
		}
	}
}

func (r *runner) closeLocked(p *pool) {
	delete(r.pools, p.prog)
	p.close()
}

// closeAll closes every pool.
func (r *runner) closeAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.pools {
		r.closeLocked(p)
	}
}

// acquire checks a runtime out: an idle one, else a new one while there
// are fewer than RuntimesPerProgram, else the first one released.
func (p *pool) acquire(ctx context.Context, r *runner) (*warm, error) {
	select {
	case w := <-p.idle:
		return w, nil
	default:
	}
	select {
	case w := <-p.idle:
		return w, nil
	case p.slots <- struct{}{}:
		w, err := r.newWarm(ctx, p.prog)
		if err != nil {
			<-p.slots
			return nil, err
		}
		return w, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns a healthy runtime to the pool.
func (p *pool) release(w *warm) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.dead {
		w.rt.Close()
		<-p.slots
		return
	}
	p.idle <- w // never blocks: idle holds at most one per slot
}

// discard closes a runtime that must not run again (interrupted, or over
// its memory budget).
func (p *pool) discard(w *warm) {
	w.rt.Close()
	<-p.slots
}

// close closes the idle runtimes, and the busy ones as they come back.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead = true
	for {
		select {
		case w := <-p.idle:
			w.rt.Close()
			<-p.slots
		default:
			return
		}
	}
}

// newWarm makes a runtime and runs prog in it, bounded like a call.
func (r *runner) newWarm(ctx context.Context, prog *goja.Program) (w *warm, err error) {
	rt := jsrt.New(jsrt.Config{Timeout: r.cfg.Timeout, MemoryBudget: r.cfg.MemoryBudget, Memory: r.cfg.Memory})
	defer func() {
		if rec := recover(); rec != nil {
			err = fmt.Errorf("internal error: %v", rec)
		}
		if err != nil {
			rt.Close()
		}
	}()
	if err := rt.InstallGuards(); err != nil {
		return nil, err
	}
	json := rt.VM().Get("JSON").ToObject(rt.VM())
	stringify, ok := goja.AssertFunction(json.Get("stringify"))
	if !ok {
		return nil, errors.New("JSON.stringify is not a function")
	}
	proto := rt.VM().Get("Object").ToObject(rt.VM()).Get("prototype").ToObject(rt.VM())
	w = &warm{rt: rt, stringify: stringify, objectProto: proto}
	rt.Begin(ctx)
	defer rt.End()
	if _, err := rt.VM().RunProgram(prog); err != nil {
		var ex *goja.Exception
		if errors.As(err, &ex) { // rendered now, bounded like the call
			return nil, w.thrown(ex)
		}
		return nil, err
	}
	return w, nil
}

// invoke calls the global function fn. keep is false when the runtime
// must not be reused (interrupted).
func (w *warm) invoke(ctx context.Context, fn string, args []value.Value) (out value.Value, keep bool, err error) {
	vm := w.rt.VM()
	w.rt.Begin(ctx)
	defer w.rt.End()
	f, ok := goja.AssertFunction(vm.Get(fn))
	if !ok {
		return value.MissingValue, true, errNoFunction{fn}
	}
	jsArgs := make([]goja.Value, len(args))
	for i, a := range args {
		jsArgs[i] = w.toJS(a)
	}
	res, err := f(goja.Undefined(), jsArgs...)
	if err == nil {
		out, err = w.fromJS(res)
	}
	var intr *goja.InterruptedError
	if errors.As(err, &intr) {
		return value.MissingValue, false, err
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return value.MissingValue, true, w.thrown(ex)
	}
	return out, true, err
}

// errNoFunction: the program defines no global function of that name.
type errNoFunction struct{ name string }

func (e errNoFunction) Error() string {
	return "ReferenceError: " + e.name + " is not defined or not a function"
}

// thrownError is what JavaScript threw, rendered while the runtime is
// still in the invocation (rendering may run user code: toJSON).
type thrownError struct {
	exception any // the thrown value as JSON, or an Error's "Name: message"
	location  string
	stack     string
}

func (e *thrownError) Error() string { return fmt.Sprint(e.exception) }

func (w *warm) thrown(ex *goja.Exception) error {
	t := &thrownError{}
	// The frames only: ex.String() would render the value with its
	// toString, user code.
	var stack bytes.Buffer
	for i, f := range ex.Stack() {
		if i > 0 {
			stack.WriteByte('\n')
		}
		stack.WriteString("at ")
		f.Write(&stack)
	}
	t.stack = stack.String()
	if fs := ex.Stack(); len(fs) > 0 {
		pos := fs[0].Position()
		src, _, _ := strings.Cut(fs[0].SrcName(), "/") // "lib/object" in the functions form
		t.location = fmt.Sprintf("functions/%s.js:%d", src, pos.Line)
	}
	v := ex.Value()
	if o, ok := v.(*goja.Object); !ok || o.ClassName() != "Error" {
		jv, err := w.fromJS(v)
		if interrupted(err) {
			return err
		}
		if err == nil && !jv.IsMissing() {
			t.exception = jv.ToGo()
			return t
		}
	}
	str, err := w.str(v) // an Error's "Name: message", or what JSON cannot show
	if err != nil {
		return err
	}
	t.exception = str
	return t
}

// str is String(v), which may run user code (toString): its exceptions
// are rendered as such, its interrupt returned.
func (w *warm) str(v goja.Value) (s string, err error) {
	defer func() {
		if rec := recover(); rec != nil {
			switch e := rec.(type) {
			case *goja.Exception:
				s = "exception while rendering the exception: " + e.Error()
			case *goja.InterruptedError:
				err = e
			default:
				panic(rec)
			}
		}
	}()
	if v == nil {
		return "undefined", nil
	}
	return v.String(), nil
}

func interrupted(err error) bool {
	var intr *goja.InterruptedError
	return errors.As(err, &intr)
}

// toJS converts a SQL++ value to JavaScript: MISSING is undefined, binary
// an ArrayBuffer, the rest as JSON.parse would build it.
func (w *warm) toJS(v value.Value) goja.Value {
	vm := w.rt.VM()
	switch v.Kind() {
	case value.Missing:
		return goja.Undefined()
	case value.Null:
		return goja.Null()
	case value.Boolean:
		b, _ := v.Bool()
		return vm.ToValue(b)
	case value.Number:
		if i, ok := v.Int(); ok && v.IsInt() {
			return vm.ToValue(i)
		}
		f, _ := v.Float()
		return vm.ToValue(f)
	case value.String:
		s, _ := v.Str()
		return vm.ToValue(s)
	case value.Array:
		es, _ := v.Elems()
		items := make([]any, len(es))
		for i, e := range es {
			items[i] = w.toJS(e)
		}
		return vm.NewArray(items...)
	case value.Object:
		// Fields are set while the object has no prototype, so that no
		// setter (not even __proto__'s) runs, as in JSON.parse.
		o := vm.CreateObject(nil)
		ps, _ := v.Pairs()
		for _, p := range ps {
			_ = o.Set(p.Name, w.toJS(p.Value)) // a plain object's Set cannot fail
		}
		_ = o.SetPrototype(w.objectProto)
		return o
	case value.Binary:
		b, _ := v.Bytes()
		return vm.ToValue(vm.NewArrayBuffer(append([]byte(nil), b...)))
	}
	return goja.Undefined()
}

// fromJS converts a JavaScript value to SQL++ with JSON semantics:
// undefined, functions and Symbols are MISSING, non-finite numbers null,
// objects as JSON.stringify renders them (toJSON, Dates), and what it
// refuses (cycles, BigInt) is an error. Plain data (primitives, arrays,
// objects without toJSON) is walked directly; anything else goes through
// the guarded JSON.stringify.
func (w *warm) fromJS(v goja.Value) (out value.Value, err error) {
	// Getters and toString run user code from Go here: goja panics with
	// what it throws, or with its interrupt.
	defer func() {
		if rec := recover(); rec != nil {
			switch e := rec.(type) {
			case *goja.Exception:
				out, err = value.MissingValue, e
			case *goja.InterruptedError:
				out, err = value.MissingValue, e
			default:
				panic(rec)
			}
		}
	}()
	if out, ok := w.plain(v, 0); ok {
		return out, nil
	}
	s, err := w.stringify(goja.Undefined(), v)
	if err != nil {
		return value.MissingValue, err
	}
	if goja.IsUndefined(s) {
		return value.MissingValue, nil
	}
	return value.FromJSON([]byte(s.String()))
}

// maxPlainElems bounds the arrays plain walks: a longer (or sparse) one
// goes through JSON.stringify, whose guards bound its size.
const maxPlainElems = 1 << 16

// plain converts plain data as JSON.stringify would; ok is false for
// anything else (a BigInt, an object with toJSON, a Date, a Map, nesting
// past value.MaxDepth, which a cycle reaches).
func (w *warm) plain(v goja.Value, depth int) (out value.Value, ok bool) {
	if v == nil || goja.IsUndefined(v) || jsrt.IsSymbol(v) {
		return value.MissingValue, true
	}
	if goja.IsNull(v) {
		return value.NullValue, true
	}
	o, isObj := v.(*goja.Object)
	if !isObj {
		switch x := v.Export().(type) {
		case bool:
			return value.NewBool(x), true
		case int64:
			return value.NewInt(x), true
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return value.NullValue, true
			}
			return value.NewNumber(x), true
		case string:
			return value.NewString(x), true
		}
		return value.MissingValue, false
	}
	if jsrt.IsFunction(v) {
		return value.MissingValue, true
	}
	if toJSON := o.Get("toJSON"); depth >= value.MaxDepth || (toJSON != nil && !goja.IsUndefined(toJSON)) {
		return value.MissingValue, false
	}
	switch o.ClassName() {
	case "Array":
		n := o.Get("length").ToInteger()
		if n < 0 || n > maxPlainElems {
			return value.MissingValue, false
		}
		elems := make([]value.Value, n)
		for i := range elems {
			e, ok := w.plain(o.Get(strconv.Itoa(i)), depth+1)
			if !ok {
				return value.MissingValue, false
			}
			if e.IsMissing() {
				e = value.NullValue // as JSON.stringify renders undefined elements
			}
			elems[i] = e
		}
		return value.NewArray(elems), true
	case "Object":
		keys := o.Keys()
		pairs := make([]value.Pair, 0, len(keys))
		for _, k := range keys {
			e, ok := w.plain(o.Get(k), depth+1)
			if !ok {
				return value.MissingValue, false
			}
			pairs = append(pairs, value.Pair{Name: k, Value: e}) // NewObject drops MISSING ones
		}
		return value.NewObject(pairs), true
	}
	return value.MissingValue, false
}

// fail renders a call's failure as Couchbase's 10109, with the reason its
// JavaScript evaluator gives.
func (r *runner) fail(def engine.FunctionDef, err error) error {
	var ue *Error
	if errors.As(err, &ue) {
		return err
	}
	e := newError(ErrExecution, codeExecution, nil, "Error executing function '%s' %s", def.Name.Name, where(def))
	var thrown *thrownError
	var intr *goja.InterruptedError
	switch {
	case errors.As(err, &thrown):
		details := map[string]any{"Exception": thrown.exception}
		if thrown.location != "" {
			details["Location"] = thrown.location
		}
		if thrown.stack != "" {
			details["Stack"] = thrown.stack
		}
		e.Reason = map[string]any{"type": "Exceptions from JS code", "details": details}
	case errors.As(err, &intr):
		cause := jsrt.InterruptCause(intr)
		e.Reason = interruptReason(cause)
		e.Cause = cause
		if errors.Is(cause, jsrt.ErrTimeout) || errors.Is(cause, context.DeadlineExceeded) || errors.Is(cause, context.Canceled) {
			e.Kind = errors.Join(ErrExecution, ErrTimeout)
		}
		if errors.Is(cause, jsrt.ErrMemoryBudget) {
			jsrt.ReleaseMemory()
		}
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		e.Reason = interruptReason(err)
		e.Cause = err
		e.Kind = errors.Join(ErrExecution, ErrTimeout)
	default:
		e.Reason = map[string]any{"type": "Error from JS evaluator", "details": err.Error()}
	}
	return e
}

func interruptReason(cause error) map[string]any {
	switch {
	case errors.Is(cause, jsrt.ErrTimeout), errors.Is(cause, context.DeadlineExceeded):
		return map[string]any{"type": "Timeout", "details": "Function execution timed out"}
	case errors.Is(cause, jsrt.ErrMemoryBudget):
		return map[string]any{"type": "Out of memory", "details": "Function execution exceeded its memory budget"}
	case errors.Is(cause, context.Canceled):
		return map[string]any{"type": "Cancelled", "details": "Function execution was cancelled"}
	}
	return map[string]any{"type": "Interrupted", "details": cause.Error()}
}
