package handler

import (
	"github.com/dop251/goja"
)

// logProgram builds log(...args) and describe(value) around a native write.
// Formatting lives in JavaScript so that user toString/toJSON code runs
// inside the invocation (interruptible by the timeout) and its exceptions are
// caught here: log never throws. Each argument is JSON.stringify'd and
// followed by one space, as Couchbase writes application log lines; native
// Error objects (Error, TypeError, ...) go through toString first, while the
// eventing classes (EventingError, KVError, ...), which Couchbase builds as
// plain objects, are stringified as they are: {"message": ..., "stack": ...}.
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

// installLog defines the global log and keeps describe for exception reports.
func (w *Worker) installLog() error {
	fn, err := w.runFactory(logProgram)
	if err != nil {
		return err
	}
	write := w.vm.ToValue(func(call goja.FunctionCall) goja.Value {
		text := call.Argument(0).String()
		w.writeAppLog("INFO", text)
		w.insightRecordLog(text)
		return goja.Undefined()
	})
	v, err := fn(goja.Undefined(), write, w.errs.isCustom)
	if err != nil {
		return err
	}
	obj := v.ToObject(w.vm)
	describe, ok := goja.AssertFunction(obj.Get("describe"))
	if !ok {
		return errNotAFunction
	}
	w.describe = describe
	return w.vm.Set("log", obj.Get("log"))
}

// writeAppLog writes one application log line; failures go to the system
// log (once per worker, to avoid flooding it) and never reach JavaScript.
func (w *Worker) writeAppLog(level, msg string) {
	if w.appLog == nil {
		return
	}
	if err := w.appLog.WriteLine(level, msg); err != nil && !w.appLogFailed {
		w.appLogFailed = true
		w.logger.Error("cannot write application log", "error", err)
	}
}
