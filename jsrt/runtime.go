package jsrt

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

// MaxCallStackSize bounds JavaScript recursion, like V8's stack limit: a
// runaway recursion ends with a RangeError instead of eating memory until
// the timeout.
const MaxCallStackSize = 10000

// Config configures a Runtime.
type Config struct {
	// Timeout bounds each invocation (Begin to End); SetTimeout changes it
	// between invocations. Must be positive.
	Timeout time.Duration
	// MemoryBudget is the heap one invocation may add, in bytes; 0 means
	// no budget (the one-call allocation guards then check nothing).
	MemoryBudget int64
	// Memory, when set, stops invocations that add more than MemoryBudget.
	Memory *MemoryGuard
}

// Runtime is one goja runtime with what every kind of function needs
// around it: invocations bounded by a timeout, the caller's context and a
// memory budget (Begin, End), the guarded built-ins, error classes, log,
// curl and the hashing and base64 helpers (the Install methods). It is not
// safe for concurrent use: one goroutine runs its invocations, one at a
// time; only the interrupt callbacks (timer, context, MemoryGuard) come
// from other goroutines, under mu.
type Runtime struct {
	vm *goja.Runtime

	// Per goja runtime (cleared by Reset).
	jsonStringify  goja.Callable
	json           jsonDecoder
	describe       goja.Callable
	classes        map[string]*goja.Object // error classes by name
	isCustom       goja.Value              // isCustom(v): v is an instance of one of classes
	rangeErrorCtor goja.Constructor
	serial         serialCheck
	// regexOverrun and nestedCalls serve the guarded built-ins
	// (guards.go), per invocation.
	regexOverrun bool
	nestedCalls  int

	timeout time.Duration
	// memory stops invocations that add more than memBudget bytes of heap
	// since memStart (MemoryGuard).
	memory      *MemoryGuard
	memBudget   int64
	memStart    uint64 // live heap when the invocation started
	memObjStart uint64 // heap, garbage included, when it started

	ctx         context.Context // the invocation's; nil between invocations
	watchedDone <-chan struct{} // Done of the context stopWatch watches
	stopWatch   func() bool
	closed      bool

	// mu orders the interrupt callbacks (timer, context, memory guard)
	// against the end of an invocation: a callback interrupts the runtime
	// only while running is set, under mu, so once End has cleared it
	// ClearInterrupt is safe.
	mu          sync.Mutex
	running     bool
	runningDone <-chan struct{} // the running invocation's ctx.Done()
	deadline    time.Time       // for the (reused) timer's callback
	timer       *time.Timer
}

// interruptCause is the value a Runtime interrupts goja with.
type interruptCause struct{ err error }

// New returns a Runtime with a fresh goja runtime (Reset) and, when
// cfg.Memory is set, registered with that guard until Close.
func New(cfg Config) *Runtime {
	r := &Runtime{timeout: cfg.Timeout, memory: cfg.Memory, memBudget: cfg.MemoryBudget}
	r.timer = time.AfterFunc(time.Hour, r.onTimer)
	r.timer.Stop()
	r.Reset()
	if r.memory != nil {
		r.memory.add(r)
	}
	return r
}

// Reset replaces the goja runtime with a fresh one, bare of any installed
// API: after an invocation over its memory budget, whose garbage the old
// runtime may still reach (a global, a closure). Call it between
// invocations only; the Install methods must then run again.
func (r *Runtime) Reset() {
	r.vm = goja.New()
	r.vm.SetMaxCallStackSize(MaxCallStackSize)
	// eval and new Function must not read files through sourceMappingURL.
	r.vm.SetParserOptions(parser.WithDisableSourceMaps)
	r.jsonStringify, r.describe, r.isCustom, r.rangeErrorCtor = nil, nil, nil, nil
	r.classes = nil
	r.json = jsonDecoder{vm: r.vm, proto: r.vm.Get("Object").ToObject(r.vm).Get("prototype").ToObject(r.vm)}
}

// VM returns the goja runtime (a new one after each Reset).
func (r *Runtime) VM() *goja.Runtime { return r.vm }

// Timeout returns the timeout of the next invocations.
func (r *Runtime) Timeout() time.Duration { return r.timeout }

// SetTimeout changes the timeout of the next invocations.
func (r *Runtime) SetTimeout(d time.Duration) { r.timeout = d }

// MemoryBudget returns the heap one invocation may add, in bytes (0: none).
func (r *Runtime) MemoryBudget() int64 { return r.memBudget }

// Context returns the context of the invocation in progress, nil between
// invocations.
func (r *Runtime) Context() context.Context { return r.ctx }

// Deadline returns the time the invocation in progress times out.
func (r *Runtime) Deadline() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.deadline
}

// Close stops the timer and the context watch and leaves the memory guard.
func (r *Runtime) Close() {
	if r.memory != nil && !r.closed {
		r.memory.remove(r)
	}
	r.closed = true
	r.timer.Stop()
	if r.stopWatch != nil {
		r.stopWatch()
		r.stopWatch, r.watchedDone = nil, nil
	}
}

// Begin starts an invocation under ctx: from now until End, the timeout,
// the end of ctx and the memory guard interrupt the runtime. Contexts are
// told apart by their Done channel (comparing contexts themselves could
// panic on a non-comparable implementation).
func (r *Runtime) Begin(ctx context.Context) {
	r.ctx = ctx
	r.regexOverrun, r.nestedCalls = false, 0
	done := ctx.Done()
	r.mu.Lock()
	r.running = true
	r.runningDone = done
	r.deadline = time.Now().Add(r.timeout)
	if r.memory != nil {
		r.memStart, r.memObjStart = r.memory.live.Load(), r.memory.objects.Load()
	}
	r.mu.Unlock()
	r.timer.Reset(r.timeout)
	if done != nil && done != r.watchedDone {
		// Callers pass the same batch context for many events: watch each
		// context once rather than registering a callback per event.
		if r.stopWatch != nil {
			r.stopWatch()
		}
		r.watchedDone = done
		r.stopWatch = context.AfterFunc(ctx, func() { r.onCtxDone(done, ctx.Err()) })
	} else if err := ctx.Err(); err != nil {
		// Done since the caller checked it, and its watch already fired.
		r.onCtxDone(done, err)
	}
}

// End ends the invocation: it stops the timeout and clears any interrupt
// that fired too late to matter, so the runtime is ready for the next one.
func (r *Runtime) End() {
	r.timer.Stop()
	r.mu.Lock()
	r.running = false
	r.runningDone = nil
	r.mu.Unlock()
	r.vm.ClearInterrupt()
	r.ctx = nil
}

// Interrupt stops the invocation in progress, if any, with cause (which
// InterruptCause gives back). Safe from any goroutine.
func (r *Runtime) Interrupt(cause error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		r.vm.Interrupt(interruptCause{cause})
	}
}

// onTimer is the timer callback. The timer is reused across invocations,
// so a late callback of an earlier invocation is recognised by the
// deadline.
func (r *Runtime) onTimer() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running && !time.Now().Before(r.deadline) {
		r.vm.Interrupt(interruptCause{ErrTimeout})
	}
}

// onCtxDone interrupts the invocation running under the context whose Done
// channel is done, if any.
func (r *Runtime) onCtxDone(done <-chan struct{}, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running && r.runningDone == done {
		r.vm.Interrupt(interruptCause{err})
	}
}

// InterruptCause returns why an invocation was interrupted: ErrTimeout,
// ErrRegexLimit, ErrMemoryBudget, the context's error, the cause given to
// Interrupt, or, for an interrupt from elsewhere, an error naming its
// value.
func InterruptCause(intr *goja.InterruptedError) error {
	if c, ok := intr.Value().(interruptCause); ok && c.err != nil {
		return c.err
	}
	return fmt.Errorf("interrupted: %v", intr.Value())
}

// CallJS calls a JavaScript function from Go code that JavaScript called (a
// native function or proxy trap), passing exceptions and interrupts on to
// the calling JavaScript.
func (r *Runtime) CallJS(fn goja.Callable, this goja.Value, args ...goja.Value) goja.Value {
	v, err := fn(this, args...)
	if err != nil {
		panic(err) // *goja.Exception is rethrown as is; interrupts stay uncatchable
	}
	return v
}

// RunFactory runs a program whose value is a function and returns it.
func (r *Runtime) RunFactory(p *goja.Program) (goja.Callable, error) {
	v, err := r.vm.RunProgram(p)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, ErrNotAFunction
	}
	return fn, nil
}
