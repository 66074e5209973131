package jsrt

import (
	"github.com/dop251/goja"
)

// errorClassesProgram builds the exception classes user code sees as
// globals (Couchbase Eventing's EventingError, KVError, CurlError, ...,
// §2.11). Like Couchbase's, each derives from Error (so `instanceof Error`
// holds), can be constructed by user code, and keeps its argument as is in
// an own, enumerable message property, next to an own, enumerable stack:
// a KV failure is thrown as a KVError whose message is the {code, name,
// desc} object, and JSON.stringify (hence log) shows {"message": ...,
// "stack": ...}. Unlike Couchbase (where name is inherited from Error), the
// prototype carries the class name, so String(e) reads "KVError: ...". The
// stack starts at the caller, without the constructor's own frames, and
// keeps only the frames of the user's file. isCustom tells these errors
// from native ones (log prints those through toString).
var errorClassesProgram = goja.MustCompile("errors.js", `(function (userFile) {
	'use strict';
	const marker = Symbol('eventide.error');
	const defineProperty = Object.defineProperty;
	// clean keeps the handler's frames (not the runtime's own) and drops
	// goja's program counters: "at OnUpdate (handler.js:3:9)".
	function clean(stack) {
		if (typeof stack !== 'string') return stack;
		const lines = stack.split('\n');
		return lines.filter(function (l, i) {
			return i === 0 || l.indexOf(userFile + ':') >= 0;
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
	function isCustom(v) {
		return v !== null && typeof v === 'object' && v[marker] === true;
	}
	return {define, isCustom};
})`, true)

// InstallErrorClasses defines one global error class per name (see
// errorClassesProgram), in order. Their stacks keep the frames of
// userFile, the name the user's program was compiled under. Run it once
// per Reset, before InstallLog.
func (r *Runtime) InstallErrorClasses(userFile string, names ...string) error {
	fn, err := r.RunFactory(errorClassesProgram)
	if err != nil {
		return err
	}
	v, err := fn(goja.Undefined(), r.vm.ToValue(userFile))
	if err != nil {
		return err
	}
	obj := v.ToObject(r.vm)
	define, ok := goja.AssertFunction(obj.Get("define"))
	if !ok {
		return ErrNotAFunction
	}
	r.classes = make(map[string]*goja.Object, len(names))
	for _, name := range names {
		c, err := define(goja.Undefined(), r.vm.ToValue(name))
		if err != nil {
			return err
		}
		if err := r.vm.Set(name, c); err != nil {
			return err
		}
		r.classes[name] = c.ToObject(r.vm)
	}
	r.isCustom = obj.Get("isCustom")
	return nil
}

// ErrorClass returns the constructor of an installed error class, nil if
// there is none of that name.
func (r *Runtime) ErrorClass(name string) *goja.Object { return r.classes[name] }

// NewError constructs ctor(arg): an instance of an error class.
func (r *Runtime) NewError(ctor *goja.Object, arg goja.Value) goja.Value {
	obj, err := r.vm.New(ctor, arg)
	if err != nil {
		// Only possible if the constructor itself failed; fall back to a
		// plain TypeError so the user code still sees an exception.
		return r.vm.NewTypeError(arg.String())
	}
	return obj
}

// Throw throws ctor(arg) from native code. It must be called only from Go
// code that JavaScript called (a native function or a proxy trap): it
// panics with the error object, which goja turns into a JavaScript
// exception.
func (r *Runtime) Throw(ctor *goja.Object, arg goja.Value) {
	panic(r.NewError(ctor, arg))
}
