package handler

import (
	"github.com/dop251/goja"
)

// errorClassesProgram defines the exception classes handlers see as globals.
// Each derives from Error (so `instanceof Error` holds and stacks are
// captured), has its name on the prototype like the built-in errors, and can
// be constructed by user code. A KVError built from a {code, name, desc}
// object (as the runtime throws it) carries those fields, the desc being the
// message.
var errorClassesProgram = goja.MustCompile("errors.js", `(function () {
	'use strict';
	const stringify = JSON.stringify;
	class EventingError extends Error {
		constructor(message) { super(message); }
	}
	class KVError extends Error {
		constructor(info) {
			if (info !== null && typeof info === 'object') {
				super(typeof info.desc === 'string' ? info.desc : stringify(info));
				if ('code' in info) this.code = info.code;
				if ('name' in info) this.name = info.name;
				if ('desc' in info) this.desc = info.desc;
			} else {
				super(info);
			}
		}
	}
	class N1QLError extends Error {
		constructor(message) { super(message); }
	}
	class CurlError extends Error {
		constructor(message) { super(message); }
	}
	const classes = {EventingError, KVError, N1QLError, CurlError};
	for (const name in classes) {
		Object.defineProperty(classes[name].prototype, 'name',
			{value: name, writable: true, enumerable: false, configurable: true});
	}
	return classes;
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
	for _, name := range obj.Keys() {
		if err := w.vm.Set(name, obj.Get(name)); err != nil {
			return err
		}
	}
	w.errs.eventing = obj.Get("EventingError").ToObject(w.vm)
	w.errs.kv = obj.Get("KVError").ToObject(w.vm)
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

// throwKVError throws a KVError carrying {code, name, desc}.
func (w *Worker) throwKVError(f kvFailure) {
	info := w.vm.NewObject()
	_ = info.Set("code", f.code)
	_ = info.Set("name", f.name)
	_ = info.Set("desc", f.desc)
	panic(w.newError(w.errs.kv, info))
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
