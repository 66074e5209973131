package jsengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
	"github.com/dop251/goja_nodejs/require"

	"eventide/jsrt"
)

// Qinling's own messages for executions it stopped (runtimes/python3's
// TIMEOUT_ERROR and INVOKE_ERROR; the Node.js runtime had neither).
const (
	msgTimeout  = "Function execution timeout."
	msgResource = "Function execution failed because of too much resource consumption"
)

// program is what every runtime of one code key shares: the unzipped
// package, the module registry that compiles each of its files once, and
// the parsed entry.
type program struct {
	files    pkgFiles
	registry *require.Registry
	module   string // module path to require, "./main"
	handler  string // export to call, "main"
	entry    string // as given, for messages
}

// newProgram reads a package and parses its entry. The error is the
// execution's failure message.
func newProgram(pkg []byte, entry string, cfg Config) (*program, error) {
	module, handler, err := parseEntry(entry)
	if err != nil {
		return nil, err
	}
	files, err := readPackage(pkg, cfg.MaxPackageFiles, cfg.MaxPackageBytes)
	if err != nil {
		return nil, err
	}
	p := &program{files: files, module: module, handler: handler, entry: entry}
	p.registry = require.NewRegistry(
		require.WithLoader(p.load),
		require.WithPathResolver(resolvePath),
	)
	return p, nil
}

// parseEntry splits Qinling's entry into a module and the name of its
// export: "module.handler", the last dot separating them (so
// "lib/main.js.handler" works; Node's server took the first two
// dot-separated words, which agrees for every entry of that form); empty
// means main.main, as in Qinling.
func parseEntry(entry string) (module, handler string, err error) {
	if entry == "" {
		entry = "main.main"
	}
	i := strings.LastIndexByte(entry, '.')
	if i <= 0 || i == len(entry)-1 {
		return "", "", fmt.Errorf("entry %q is not of the form module.function", entry)
	}
	module, handler = entry[:i], entry[i+1:]
	if !strings.HasPrefix(module, "/") && !strings.HasPrefix(module, "./") && !strings.HasPrefix(module, "../") {
		module = "./" + module
	}
	return module, handler, nil
}

// load is the registry's source loader: files of the package only.
func (p *program) load(name string) ([]byte, error) {
	if b, ok := p.files[path.Clean("/"+name)]; ok {
		return b, nil
	}
	return nil, require.ModuleFileDoesNotExistError
}

// resolvePath is the registry's path resolver: paths inside the package,
// whose root is "/" (never the host's file system, which the default
// resolver consults for symbolic links).
func resolvePath(base, name string) string {
	if path.IsAbs(name) {
		return path.Clean(name)
	}
	return path.Join("/", base, name)
}

// worker is one warm runtime of a code key. It is used by one goroutine
// at a time (the Run that checked it out).
type worker struct {
	name      string // unique in its engine, for Engine.Workers
	rt        *jsrt.Runtime
	prog      *program
	req       *require.RequireModule
	handler   goja.Callable // the entry's function, once loaded
	stringify goja.Callable // the guarded JSON.stringify, as installed
	resolve   goja.Callable // Promise.resolve, as installed
	promise   goja.Value    // the Promise constructor, as installed
	errorCtor goja.Constructor
	syntaxErr goja.Constructor
	log       logBuffer
	timers    timerQueue
	// broken: the runtime must not be reused (interrupted, or a Go panic
	// went through it); overBudget: it was stopped over its memory budget.
	broken, overBudget bool
}

// newWorker makes a runtime for prog: guards, log, console, timers and
// require over the package. It runs no user code: the entry module is
// loaded by the first invocation.
func newWorker(prog *program, timeout time.Duration, budget int64, mem *jsrt.MemoryGuard, maxLog int) (*worker, error) {
	w := &worker{prog: prog, log: logBuffer{max: maxLog}}
	w.rt = jsrt.New(jsrt.Config{Timeout: timeout, MemoryBudget: budget, Memory: mem})
	vm := w.rt.VM()
	steps := []func() error{
		w.rt.InstallGuards,
		func() error { return w.rt.InstallLog(w.log.line) },
		func() error { return installConsole(w.rt, w.log.line) },
		func() error { return w.timers.install(vm) },
		w.captureBuiltins,
		func() error {
			w.req = prog.registry.Enable(vm)
			// Replace the registry's require (modules receive whatever the
			// global is when they load) with one that reports a missing
			// module as Node does and keeps interrupts uncatchable.
			return vm.Set("require", w.require)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			w.rt.Close()
			return nil, err
		}
	}
	return w, nil
}

// captureBuiltins keeps the originals user code could replace.
func (w *worker) captureBuiltins() error {
	vm := w.rt.VM()
	var ok bool
	if w.stringify, ok = goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify")); !ok {
		return errors.New("jsengine: JSON.stringify is not a function")
	}
	w.promise = vm.Get("Promise")
	if w.resolve, ok = goja.AssertFunction(w.promise.ToObject(vm).Get("resolve")); !ok {
		return errors.New("jsengine: Promise.resolve is not a function")
	}
	if w.errorCtor, ok = goja.AssertConstructor(vm.Get("Error")); !ok {
		return errors.New("jsengine: Error is not a constructor")
	}
	if w.syntaxErr, ok = goja.AssertConstructor(vm.Get("SyntaxError")); !ok {
		return errors.New("jsengine: SyntaxError is not a constructor")
	}
	return nil
}

func (w *worker) close() { w.rt.Close() }

// require is the global require(id), called from JavaScript.
func (w *worker) require(call goja.FunctionCall) goja.Value {
	id := call.Argument(0).String()
	v, err := w.req.Require(id)
	if err != nil {
		panic(w.requireError(id, err))
	}
	return v
}

// requireError turns a loader error into what require throws: exceptions
// and interrupts as they are, a missing module as Node's MODULE_NOT_FOUND
// Error, a parse or compile error as a SyntaxError.
func (w *worker) requireError(id string, err error) any {
	var exc *goja.Exception
	var intr *goja.InterruptedError
	if errors.As(err, &exc) || errors.As(err, &intr) {
		return err
	}
	vm := w.rt.VM()
	var syn *goja.CompilerSyntaxError
	var list parser.ErrorList
	var one *parser.Error
	switch {
	case errors.Is(err, require.InvalidModuleError), errors.Is(err, require.NoSuchBuiltInModuleError),
		errors.Is(err, require.IllegalModuleNameError):
		obj, cerr := w.errorCtor(nil, vm.ToValue(fmt.Sprintf("Cannot find module '%s'", id)))
		if cerr != nil {
			return vm.NewGoError(err)
		}
		_ = obj.Set("code", "MODULE_NOT_FOUND")
		return obj
	case errors.As(err, &syn), errors.As(err, &list), errors.As(err, &one):
		obj, cerr := w.syntaxErr(nil, vm.ToValue(err.Error()))
		if cerr != nil {
			return vm.NewGoError(err)
		}
		return obj
	}
	return vm.NewGoError(err)
}

// invocation is what one Run hands a worker.
type invocation struct {
	executionID string
	context     []ctxField // the handler's context argument
	input       json.RawMessage
	maxOutput   int
}

// outcome is an invocation's result before it becomes a qinling.Result.
type outcome struct {
	success bool
	output  json.RawMessage
	// err: the engine could not finish the run (its context ended).
	err error
}

// fail is a failed outcome whose output is msg as a JSON string.
func fail(msg string) outcome {
	b, _ := json.Marshal(msg)
	return outcome{output: b}
}

// invoke runs one execution: loads the entry on first use, calls the
// handler with (context, input), settles a returned promise by running
// its timers, and encodes the value. It leaves w.broken set when the
// runtime must not be reused.
func (w *worker) invoke(ctx context.Context, timeout time.Duration, inv invocation) (out outcome) {
	w.rt.SetTimeout(timeout)
	w.timers.reset()
	w.rt.Begin(ctx)
	defer func() {
		if r := recover(); r != nil {
			// A Go panic in goja or a native function: this runtime's
			// state is unknown, so it goes, and the execution fails
			// without taking the node down.
			w.broken = true
			w.log.line(fmt.Sprintf("Internal error: %v", r))
			out = fail(fmt.Sprintf("Function invocation error: internal error: %v", r))
		}
		w.timers.reset()
		w.rt.End()
	}()
	if w.handler == nil {
		if out, ok := w.loadHandler(ctx); !ok {
			return out
		}
	}
	vm := w.rt.VM()
	input := goja.Null()
	if len(inv.input) > 0 {
		v, err := w.rt.DecodeJSON(inv.input)
		if err != nil {
			return fail(fmt.Sprintf("Function invocation error: the input is not JSON: %v", err))
		}
		input = v
	}
	ctxObj := vm.NewObject()
	for _, f := range inv.context {
		if err := ctxObj.Set(f.name, f.value); err != nil {
			return w.failure(ctx, err)
		}
	}
	v, err := w.handler(goja.Undefined(), ctxObj, input)
	if err != nil {
		return w.failure(ctx, err)
	}
	if v, err = w.settle(ctx, v); err != nil {
		return w.failure(ctx, err)
	}
	return w.encode(ctx, v, inv.maxOutput)
}

// loadHandler requires the entry module and finds its function. Node's
// server did the same on each execution; here the module stays loaded in
// this runtime (a module whose loading throws is loaded again next time).
func (w *worker) loadHandler(ctx context.Context) (outcome, bool) {
	exports, err := w.req.Require(w.prog.module)
	if err != nil {
		var exc *goja.Exception
		var intr *goja.InterruptedError
		if errors.As(err, &exc) || errors.As(err, &intr) {
			return w.failure(ctx, err), false
		}
		thrown, ok := w.requireError(strings.TrimPrefix(w.prog.module, "./"), err).(goja.Value)
		if !ok {
			return w.failure(ctx, err), false
		}
		return w.thrown(thrown), false
	}
	var fn goja.Value
	if obj, ok := exports.(*goja.Object); ok {
		fn = obj.Get(w.prog.handler)
	}
	handler, ok := goja.AssertFunction(fn)
	if !ok {
		msg := fmt.Sprintf("Function invocation error: module '%s' has no function '%s' (entry %q)",
			strings.TrimPrefix(w.prog.module, "./"), w.prog.handler, w.prog.entry)
		w.log.line(msg)
		return fail(msg), false
	}
	w.handler = handler
	return outcome{}, true
}

// settle waits for a returned promise (or thenable) to settle, running
// the timers it waits on, within the invocation's deadline and ctx.
// Microtasks (promise reactions) run whenever a call into the runtime
// returns.
func (w *worker) settle(ctx context.Context, v goja.Value) (goja.Value, error) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return v, nil
	}
	p, isPromise := obj.Export().(*goja.Promise)
	if !isPromise {
		if _, thenable := goja.AssertFunction(obj.Get("then")); !thenable {
			return v, nil
		}
		pv, err := w.resolve(w.promise, v)
		if err != nil {
			return nil, err
		}
		if p, ok = pv.Export().(*goja.Promise); !ok {
			return v, nil
		}
	}
	for p.State() == goja.PromiseStatePending {
		t := w.timers.next()
		if t == nil {
			return nil, errNeverSettles
		}
		if wait := time.Until(t.due); wait > 0 {
			if err := w.sleep(ctx, wait); err != nil {
				return nil, err
			}
		}
		if err := w.timers.fire(t); err != nil {
			return nil, err
		}
	}
	if p.State() == goja.PromiseStateRejected {
		return nil, &rejection{reason: p.Result()}
	}
	return p.Result(), nil
}

// sleep waits d for a timer, unless the invocation's deadline or ctx
// comes first (nothing runs in the runtime meanwhile, so its own timeout
// interrupt would only be seen by the next call).
func (w *worker) sleep(ctx context.Context, d time.Duration) error {
	left := time.Until(w.rt.Deadline())
	if left <= d {
		if left > 0 {
			t := time.NewTimer(left)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return jsrt.ErrTimeout
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errNeverSettles: the handler's promise is pending with no timer left
// to settle it (the engine has no other source of events).
var errNeverSettles = errors.New("the function's promise never settles: nothing is left that could resolve or reject it")

// rejection carries a rejected promise's reason.
type rejection struct{ reason goja.Value }

func (r *rejection) Error() string { return "promise rejected" }

// failure turns an error of the call, the promise or a timer into the
// execution's failure, or into an engine error when ctx ended.
func (w *worker) failure(ctx context.Context, err error) outcome {
	var intr *goja.InterruptedError
	var exc *goja.Exception
	var rej *rejection
	switch {
	case errors.As(err, &intr):
		return w.stopped(ctx, jsrt.InterruptCause(intr))
	case errors.Is(err, jsrt.ErrTimeout), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return w.stopped(ctx, err)
	case errors.As(err, &rej):
		return w.thrown(rej.reason)
	case errors.As(err, &exc):
		return w.thrown(exc.Value())
	}
	msg := "Function invocation error: " + err.Error()
	w.log.line(msg)
	return fail(msg)
}

// thrown is the failure for a thrown value (or a rejection's reason): its
// description ("TypeError: x is not a function", a thrown string as it
// is) as output, its stack in the log.
func (w *worker) thrown(value goja.Value) outcome {
	msg := w.rt.Describe(value)
	if stack := stackOf(value); stack != "" {
		w.log.line(stack)
	} else {
		w.log.line("Uncaught " + msg)
	}
	return fail(msg)
}

// stopped is the outcome of an invocation the engine stopped: Qinling's
// messages for a timeout and a memory overrun; an engine error when the
// caller's context ended. The runtime is not reused.
func (w *worker) stopped(ctx context.Context, cause error) outcome {
	w.broken = true
	switch {
	case errors.Is(cause, jsrt.ErrMemoryBudget):
		w.overBudget = true
		w.log.line(fmt.Sprintf("Execution stopped: the function grew the heap past its memory_size (%d bytes)", w.rt.MemoryBudget()))
		return fail(msgResource)
	case errors.Is(cause, jsrt.ErrTimeout):
		w.log.line(fmt.Sprintf("Execution stopped: %v (timeout %s)", cause, w.rt.Timeout()))
		return fail(msgTimeout)
	case ctx.Err() != nil:
		w.log.line("Execution stopped: " + ctx.Err().Error())
		return outcome{err: ctx.Err()}
	}
	w.log.line("Execution stopped: " + cause.Error())
	return fail("Function invocation error: " + cause.Error())
}

// goja's stack frames end in the program counter, "(/main.js:2:9(3))",
// which means nothing to the function's author.
var framePC = regexp.MustCompile(`(:\d+:\d+)\(\d+\)`)

// stackOf returns an Error's stack without goja's program counters, ""
// for anything else.
func stackOf(v goja.Value) string {
	obj, ok := v.(*goja.Object)
	if !ok {
		return ""
	}
	s, _ := jsrt.JSString(obj.Get("stack"))
	return strings.TrimRight(framePC.ReplaceAllString(s, "$1"), "\n")
}

// encode turns the settled value into the output: JSON.stringify's text
// (undefined, a function or a symbol give no output, as Node's server
// left output out of its response), refused past maxOutput.
func (w *worker) encode(ctx context.Context, v goja.Value, maxOutput int) outcome {
	if goja.IsUndefined(v) {
		return outcome{success: true}
	}
	s, err := w.stringify(goja.Undefined(), v)
	if err != nil {
		return w.failure(ctx, err)
	}
	if goja.IsUndefined(s) {
		return outcome{success: true}
	}
	text := s.String()
	if len(text) > maxOutput {
		msg := fmt.Sprintf("Function invocation error: the output is %d bytes of JSON, more than the limit of %d", len(text), maxOutput)
		w.log.line(msg)
		return fail(msg)
	}
	if !json.Valid([]byte(text)) {
		// A lone surrogate can make goja's text invalid UTF-8 JSON.
		msg := "Function invocation error: the output cannot be encoded as JSON"
		w.log.line(msg)
		return fail(msg)
	}
	return outcome{success: true, output: json.RawMessage(text)}
}

// logBuffer is one execution's log, bounded: lines past max are dropped,
// with one note saying so.
type logBuffer struct {
	max       int
	b         strings.Builder
	truncated bool
}

func (l *logBuffer) line(s string) {
	if l.truncated {
		return
	}
	if l.b.Len()+len(s)+1 > l.max {
		l.truncated = true
		l.b.WriteString("... (log truncated)\n")
		return
	}
	l.b.WriteString(s)
	l.b.WriteByte('\n')
}

// take returns the log and empties the buffer for the next execution.
func (l *logBuffer) take() string {
	s := l.b.String()
	l.b.Reset()
	l.truncated = false
	return s
}
