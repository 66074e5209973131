package handler

import (
	"github.com/dop251/goja"
)

// Runtime rules (§2.13). Compile already keeps the global scope to function
// declarations (and the constant bindings), puts the code in strict mode
// unless the handler headers say otherwise, and refuses queries; there is no
// require, setTimeout or event loop. sealGlobals closes the remaining way to
// keep state between invocations: once the program has run, the global
// object takes no new properties, so `globalThis.cache = ...` (or, in sloppy
// mode, assigning an undeclared name) cannot carry data from one event to
// the next. Existing globals (the handler's functions, the built-ins) can
// still be reassigned, as Couchbase allows overriding built-ins.

// sealProgram reaches Object through an object literal, which the handler's
// own global functions (even one named Object) cannot redirect.
var sealProgram = goja.MustCompile("seal.js", `(function (g) {
	'use strict';
	({}).constructor.preventExtensions(g);
})`, true)

// sealGlobals makes the global object non-extensible. It runs once, after
// the program's first run.
func (w *Worker) sealGlobals() error {
	fn, err := w.runFactory(sealProgram)
	if err != nil {
		return err
	}
	_, err = fn(goja.Undefined(), w.vm.GlobalObject())
	return err
}
