package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"eventide/jsrt"
)

// Timers (§2.7): createTimer(callback, date, reference, context) records a
// timer in the invocation's Store and returns its reference;
// cancelTimer(callback, reference) removes one. The node's supervisor decides
// when a timer is due and hands it to FireTimer, which calls the global
// function the timer names with its context. Argument errors throw
// EventingError with Couchbase's messages; they are not counted.

// timersProgram builds the trampolines that find and call a global function
// by name from JavaScript: a lookup from Go (Runtime.Get) could run a user
// getter outside the invocation's interrupt handling. They return missing,
// without calling anything, when the global is not a function.
var timersProgram = goja.MustCompile("timers.js", `(function (global, missing) {
	'use strict';
	function fire(name, context) {
		const fn = global[name];
		if (typeof fn !== 'function') return missing;
		fn(context);
	}
	function deploy(reason, delay) {
		const fn = global.OnDeploy;
		if (typeof fn !== 'function') return missing;
		fn({reason: reason, delay: delay});
	}
	return {fire, deploy};
})`, true)

// timerRuntime holds a worker's timer trampolines.
type timerRuntime struct {
	fire, deploy goja.Callable
	missing      *goja.Object // the trampolines' "not a function" marker
}

// installTimers defines the globals createTimer and cancelTimer and builds
// the trampolines FireTimer and OnDeploy use.
func (w *Worker) installTimers() error {
	fn, err := w.rt.RunFactory(timersProgram)
	if err != nil {
		return err
	}
	w.tm.missing = w.vm.NewObject()
	v, err := fn(goja.Undefined(), w.vm.GlobalObject(), w.tm.missing)
	if err != nil {
		return err
	}
	obj := v.ToObject(w.vm)
	var ok bool
	if w.tm.fire, ok = goja.AssertFunction(obj.Get("fire")); !ok {
		return jsrt.ErrNotAFunction
	}
	if w.tm.deploy, ok = goja.AssertFunction(obj.Get("deploy")); !ok {
		return jsrt.ErrNotAFunction
	}
	if err := w.vm.Set("createTimer", w.createTimer); err != nil {
		return err
	}
	return w.vm.Set("cancelTimer", w.cancelTimer)
}

// createTimer(callback, date, reference, context) → reference.
func (w *Worker) createTimer(call goja.FunctionCall) goja.Value {
	if len(call.Arguments) < 3 {
		w.throwEventingError("createTimer needs atleast 3 arguments - callback function, time, reference")
	}
	name := w.globalCallback(call.Argument(0), "createTimer")
	due := w.timerDue(call.Argument(1))
	var ref string
	switch v := call.Argument(2); {
	case goja.IsUndefined(v) || goja.IsNull(v):
		ref = newTimerReference()
	default:
		s, ok := jsrt.JSString(v)
		if !ok {
			w.throwEventingError("Third argument to createTimer must be a string (or null to generate an ID)")
		}
		ref = s
	}
	ctxJSON := w.timerContext(call.Argument(3))
	st := w.timerStore("createTimer")
	err := st.CreateTimer(Timer{Callback: name, Reference: ref, Due: due, Context: []byte(ctxJSON)})
	if err != nil {
		w.stats.inc(statTimerCreateFailure)
		w.throwEventingError("createTimer: unable to create the timer: " + err.Error())
	}
	w.stats.inc(statTimerCreate)
	return w.vm.ToValue(ref)
}

// cancelTimer(callback, reference) → whether a pending timer was removed.
func (w *Worker) cancelTimer(call goja.FunctionCall) goja.Value {
	if len(call.Arguments) < 2 {
		w.throwEventingError("cancelTimer needs 2 arguments - callback function, reference")
	}
	name := w.globalCallback(call.Argument(0), "cancelTimer")
	ref, ok := jsrt.JSString(call.Argument(1))
	if !ok {
		w.throwEventingError("Second argument to cancelTimer must be a string")
	}
	st := w.timerStore("cancelTimer")
	removed, err := st.CancelTimer(name, ref)
	if err != nil {
		w.throwEventingError("cancelTimer: unable to cancel the timer: " + err.Error())
	}
	if removed {
		// As Couchbase counts it: cancellations that removed a timer.
		w.stats.inc(statTimerCancel)
	}
	return w.vm.ToValue(removed)
}

// globalCallback checks that v is a named function that is the global of
// that name, as Couchbase's IsFuncGlobal does (an inner or anonymous function
// could not be found again when the timer fires), and returns the name. The
// message is Couchbase's, which handlers may compare.
func (w *Worker) globalCallback(v goja.Value, api string) string {
	msg := "First argument to " + api + " must be a valid global function"
	if _, ok := goja.AssertFunction(v); !ok {
		w.throwEventingError(msg)
	}
	name, _ := jsrt.JSString(v.ToObject(w.vm).Get("name"))
	if name == "" {
		w.throwEventingError(msg)
	}
	if g := w.vm.GlobalObject().Get(name); g == nil || !g.SameAs(v) {
		w.throwEventingError(msg)
	}
	return name
}

// timerDue converts the date argument: a valid Date, to the millisecond.
// Past dates are allowed (the timer fires at the next scan).
func (w *Worker) timerDue(v goja.Value) time.Time {
	obj, ok := v.(*goja.Object)
	if !ok || obj.ClassName() != "Date" {
		w.throwEventingError("Second argument to createTimer must be a Date object instance")
	}
	// Export reads the Date's time value without calling (possibly
	// overridden) methods; an Invalid Date exports as nil.
	t, ok := obj.Export().(time.Time)
	if !ok {
		w.throwEventingError("Second argument to createTimer must be a valid Date, got an Invalid Date")
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// timerContext serializes the context argument (undefined: null) and
// enforces timer_context_size.
func (w *Worker) timerContext(v goja.Value) string {
	if goja.IsUndefined(v) {
		return "null"
	}
	// The original JSON.stringify: BigInts, cycles and throwing toJSON
	// methods throw to the handler.
	s := w.rt.Stringify(v)
	if goja.IsUndefined(s) {
		w.throwEventingError("Fourth argument to createTimer (context) must be JSON serializable, got a " + jsTypeOf(v))
	}
	text := s.String()
	if len(text) > w.timerContextSize {
		w.stats.inc(statTimerContextSizeException)
		w.throwEventingError(fmt.Sprintf("The context payload size is more than the configured size:%d bytes", w.timerContextSize))
	}
	return text
}

// jsTypeOf names the kinds of value JSON.stringify gives undefined for.
func jsTypeOf(v goja.Value) string {
	if jsrt.IsSymbol(v) {
		return "symbol"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "function"
	}
	return "value that has no JSON form"
}

// timerStore returns the invocation's store, throwing outside an invocation
// (for example from a constant binding's initializer).
func (w *Worker) timerStore(api string) Store {
	if w.inv.store == nil {
		w.throwEventingError(api + " can only be used while handling an event")
	}
	return w.inv.store
}

// newTimerReference generates a reference for a timer created without one:
// 128 random bits, so references never collide across nodes and restarts.
func newTimerReference() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// FireTimer runs a due timer: the global function named t.Callback is called
// with the timer's context (JSON-decoded) under the execution timeout, its
// bucket and timer operations going to st. It counts timer_msg_counter and
// then timer_callback_success or timer_callback_failure (and timeout_count
// for a timeout). It returns nil on success; an error wrapping
// ErrCallbackMissing (counted as timer_callback_missing_counter; nothing is
// called, and the caller drops the timer) when the global is not a function;
// an *InvocationError (Entry t.Callback, Key t.Reference) for an uncaught
// exception, a timeout or an interruption by ctx, as Handle does; and
// ErrInvalidEvent, ErrWorkerClosed or ErrWorkerBroken otherwise.
func (w *Worker) FireTimer(ctx context.Context, t Timer, st Store) error {
	if err := w.ready(ctx, t.Callback, t.Reference, st); err != nil {
		return err
	}
	w.stats.inc(statTimerMsg)
	missing := false
	err := w.run(ctx, t.Callback, t.Reference, st, func() error {
		arg := goja.Null()
		if len(t.Context) > 0 {
			v, err := w.rt.DecodeJSON(t.Context)
			if err != nil {
				return fmt.Errorf("timer context is not valid JSON: %w", err)
			}
			arg = v
		}
		v, err := w.tm.fire(goja.Undefined(), w.vm.ToValue(t.Callback), arg)
		missing = err == nil && v.SameAs(w.tm.missing)
		return err
	})
	if missing {
		w.stats.inc(statTimerCallbackMissing)
		w.logger.Warn("timer callback missing, timer dropped", "callback", t.Callback, "reference", t.Reference)
		return fmt.Errorf("%w: %s is not a global function (timer %q)", ErrCallbackMissing, t.Callback, t.Reference)
	}
	return w.finish(err, statTimerCallbackSuccess, statTimerCallbackFailure)
}
