package handler

import (
	"github.com/dop251/goja"
)

// errorClassesProgram defines the exception classes handlers see as globals
// (§2.11). Like Couchbase's, each derives from Error (so `instanceof Error`
// holds), can be constructed by user code, and keeps its argument as is in
// an own, enumerable message property, next to an own, enumerable stack:
// a KV failure is thrown as a KVError whose message is the {code, name,
// desc} object, and JSON.stringify (hence log) shows {"message": ...,
// "stack": ...}. Unlike Couchbase (where name is inherited from Error), the
// prototype carries the class name, so String(e) reads "KVError: ...". The
// stack starts at the caller, without the constructor's own frames.
// isCustom tells these errors from native ones (log prints those through
// toString).
var errorClassesProgram = goja.MustCompile("errors.js", `(function () {
	'use strict';
	const marker = Symbol('eventide.error');
	const defineProperty = Object.defineProperty;
	// clean keeps the handler's frames (not the runtime's own) and drops
	// goja's program counters: "at OnUpdate (handler.js:3:9)".
	function clean(stack) {
		if (typeof stack !== 'string') return stack;
		const lines = stack.split('\n');
		return lines.filter(function (l, i) {
			return i === 0 || l.indexOf('`+handlerFileName+`:') >= 0;
		}).map(function (l) {
			return l.replace(/(:\d+:\d+)\(\d+\)/, '$1');
		}).join('\n');
	}
	function define(name) {
		const C = class extends Error {
			constructor(message) {
				super();
				const stack = clean(this.stack);
				delete this.stack;
				if (arguments.length > 0) this.message = message;
				defineProperty(this, 'stack', {value: stack, writable: true, enumerable: true, configurable: true});
			}
		};
		defineProperty(C, 'name', {value: name, configurable: true});
		defineProperty(C.prototype, 'name', {value: name, writable: true, enumerable: false, configurable: true});
		defineProperty(C.prototype, marker, {value: true});
		return C;
	}
	const classes = {};
	for (const name of ['EventingError', 'KVError', 'N1QLError', 'CurlError', 'AnalyticsError', 'SearchError']) {
		classes[name] = define(name);
	}
	function isCustom(v) {
		return v !== null && typeof v === 'object' && v[marker] === true;
	}
	return {classes, isCustom};
})`, true)

// KV error codes thrown by the basic accessors, named as libcouchbase does.
type kvFailure struct {
	code int
	name string
	desc string
}

var (
	kvKeyNotFound = kvFailure{272, "LCB_KEY_ENOENT", "The document key does not exist on the server"}
	kvGeneric     = kvFailure{0, "LCB_ERROR", ""}
)

// errorClasses holds a worker's exception constructors.
type errorClasses struct {
	eventing, kv *goja.Object
	// isCustom(v) reports whether v is one of these classes' instances.
	isCustom goja.Value
}

// installErrors runs errorClassesProgram and makes its classes globals.
func (w *Worker) installErrors() error {
	fn, err := w.runFactory(errorClassesProgram)
	if err != nil {
		return err
	}
	v, err := fn(goja.Undefined())
	if err != nil {
		return err
	}
	obj := v.ToObject(w.vm)
	classes := obj.Get("classes").ToObject(w.vm)
	for _, name := range classes.Keys() {
		if err := w.vm.Set(name, classes.Get(name)); err != nil {
			return err
		}
	}
	w.errs.eventing = classes.Get("EventingError").ToObject(w.vm)
	w.errs.kv = classes.Get("KVError").ToObject(w.vm)
	w.errs.isCustom = obj.Get("isCustom")
	return nil
}

// runFactory runs a program whose value is a function and returns it.
func (w *Worker) runFactory(p *goja.Program) (goja.Callable, error) {
	v, err := w.vm.RunProgram(p)
	if err != nil {
		return nil, err
	}
	fn, ok := goja.AssertFunction(v)
	if !ok {
		return nil, errNotAFunction
	}
	return fn, nil
}

// throwEventingError throws an EventingError from native code. It must be
// called only from Go code that JavaScript called (a native function or a
// proxy trap): it panics with the error object, which goja turns into a
// JavaScript exception.
func (w *Worker) throwEventingError(msg string) {
	panic(w.newError(w.errs.eventing, w.vm.ToValue(msg)))
}

// throwKVError throws a KVError whose message is {code, name, desc}, as
// Couchbase throws KV failures.
func (w *Worker) throwKVError(f kvFailure) {
	info := w.vm.NewObject()
	_ = info.Set("code", f.code)
	_ = info.Set("desc", f.desc)
	_ = info.Set("name", f.name)
	panic(w.newError(w.errs.kv, info))
}

// throwKVErrorMessage throws a KVError with a plain message, as Couchbase
// does for a bad key given to a basic delete.
func (w *Worker) throwKVErrorMessage(msg string) {
	panic(w.newError(w.errs.kv, w.vm.ToValue(msg)))
}

func (w *Worker) newError(ctor *goja.Object, arg goja.Value) goja.Value {
	obj, err := w.vm.New(ctor, arg)
	if err != nil {
		// Only possible if the constructor itself failed; fall back to a
		// plain TypeError so the handler still sees an exception.
		return w.vm.NewTypeError(arg.String())
	}
	return obj
}
