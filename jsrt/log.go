package jsrt

import (
	"github.com/dop251/goja"
)

// logProgram builds log(...args) and describe(value) around a native write.
// Formatting lives in JavaScript so that user toString/toJSON code runs
// inside the invocation (interruptible by the timeout) and its exceptions are
// caught here: log never throws. Each argument is JSON.stringify'd and
// followed by one space, as Couchbase writes application log lines; native
// Error objects (Error, TypeError, ...) go through toString first, while the
// installed error classes (EventingError, KVError, ...), which Couchbase
// builds as plain objects, are stringified as they are: {"message": ...,
// "stack": ...}.
// The originals of JSON.stringify, Error and String are captured so that
// handlers overriding them cannot break logging.
var logProgram = goja.MustCompile("log.js", `(function (write, isCustom) {
	'use strict';
	const stringify = JSON.stringify;
	const ErrorCtor = Error;
	const StringCtor = String;
	function fmt(v) {
		try {
			if (typeof v === 'string') return stringify(v);
			if (v instanceof ErrorCtor && !isCustom(v)) return stringify(v.toString());
			const s = stringify(v);
			return s === undefined ? StringCtor(v) : s;
		} catch (e) {
			try { return StringCtor(v); } catch (e2) { return '<unprintable value>'; }
		}
	}
	function log() {
		let line = '';
		for (let i = 0; i < arguments.length; i++) line += fmt(arguments[i]) + ' ';
		write(line);
	}
	// describe renders an uncaught exception for the logs. An eventing
	// error whose message is not a string (a KV failure's {code, name,
	// desc}) shows it as JSON.
	function describe(v) {
		try {
			if (v instanceof ErrorCtor && isCustom(v) && typeof v.message !== 'string') {
				return StringCtor(v.name) + ': ' + stringify(v.message);
			}
			if (v instanceof ErrorCtor) return StringCtor(v);
			if (typeof v === 'string') return v;
			const s = stringify(v);
			return s === undefined ? StringCtor(v) : s;
		} catch (e) {
			return '<unprintable exception>';
		}
	}
	return {log, describe};
})`, true)

// InstallLog defines the global log(...args): each argument formatted
// (see logProgram) and followed by one space, the line handed to write
// (Eventing's application log, a Qinling execution's log). Run it after
// InstallErrorClasses; it also prepares Describe.
func (r *Runtime) InstallLog(write func(text string)) error {
	fn, err := r.RunFactory(logProgram)
	if err != nil {
		return err
	}
	native := r.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		write(call.Argument(0).String())
		return goja.Undefined()
	})
	isCustom := r.isCustom
	if isCustom == nil { // no error classes: nothing is custom
		isCustom = r.vm.ToValue(func(goja.FunctionCall) goja.Value { return r.vm.ToValue(false) })
	}
	v, err := fn(goja.Undefined(), native, isCustom)
	if err != nil {
		return err
	}
	obj := v.ToObject(r.vm)
	describe, ok := goja.AssertFunction(obj.Get("describe"))
	if !ok {
		return ErrNotAFunction
	}
	r.describe = describe
	return r.vm.Set("log", obj.Get("log"))
}

// Describe renders a thrown value as text for the logs (Error objects as
// "Name: message"). It may run user code (toString), so call it while the
// invocation's timeout still applies.
func (r *Runtime) Describe(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if r.describe == nil {
		return v.String()
	}
	s, err := r.describe(goja.Undefined(), v)
	if err != nil {
		return "<exception could not be described>"
	}
	return s.String()
}
