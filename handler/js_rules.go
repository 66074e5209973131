package handler

import "github.com/dop251/goja"

// Runtime rules (§2.13). Compile already keeps the global scope to function
// declarations (and the constant bindings), puts the code in strict mode
// unless the handler headers say otherwise, and refuses queries; there is no
// require, setTimeout or event loop. The remaining way to keep state between
// invocations is a global property added at run time. In strict mode (the
// default) the global object is made non-extensible once the program has
// run, so `globalThis.cache = ...` throws a TypeError, as an undeclared
// assignment throws a ReferenceError. In sloppy mode, where such writes
// would fail silently and break handlers that rely on undeclared
// assignments within one invocation, the properties an invocation adds are
// deleted when it returns instead (a per-invocation cost sloppy handlers
// alone pay). Existing globals (the handler's functions, the built-ins) can
// still be reassigned, as Couchbase allows overriding built-ins.

// sealProgram reaches Object through an object literal, which the handler's
// own global functions (even one named Object) cannot redirect.
var sealProgram = goja.MustCompile("seal.js", `(function (g) {
	'use strict';
	({}).constructor.preventExtensions(g);
})`, true)

// guardGlobals runs once, after the program's first run.
func (w *Worker) guardGlobals() error {
	if w.p.strict {
		fn, err := w.rt.RunFactory(sealProgram)
		if err != nil {
			return err
		}
		_, err = fn(goja.Undefined(), w.vm.GlobalObject())
		return err
	}
	keys := w.vm.GlobalObject().Keys()
	w.baseGlobals = make(map[string]bool, len(keys))
	for _, k := range keys {
		w.baseGlobals[k] = true
	}
	return nil
}

// dropNewGlobals deletes the global properties a sloppy-mode invocation
// added.
func (w *Worker) dropNewGlobals() {
	if w.baseGlobals == nil {
		return
	}
	g := w.vm.GlobalObject()
	for _, k := range g.Keys() {
		if !w.baseGlobals[k] {
			_ = g.Delete(k) // a non-configurable property cannot go; nothing else can fail
		}
	}
}
