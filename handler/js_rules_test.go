package handler

import (
	"context"
	"errors"
	"strings"
	"testing"

	"eventide/docstore"
)

func TestRules_NoStateSurvivesInvocations(t *testing.T) {
	code := `function OnUpdate(doc, meta) {
  if (doc.n === 1) {
    var r = {};
    try { globalThis.cache = {hits: 1}; r.global = 'stored'; } catch (e) { r.global = e.name; }
    try { eval('var viaEval = 1'); r.eval = typeof viaEval; } catch (e) { r.eval = e.name; }
    log = function () {}; // overriding a built-in stays allowed
    r.overridden = typeof log;
    dst['first'] = r;
    return;
  }
  dst['second'] = {cache: typeof cache, viaEval: typeof viaEval, helperCalls: helper()};
}
function helper() { return 'fresh'; }`
	h := newHarness(t, code, harnessOpts{})
	h.mustHandle(mutation("a", `{"n": 1}`))
	h.mustHandle(mutation("b", `{"n": 2}`))
	// Strict mode: adding a global throws; eval keeps its var to itself.
	wantFields(t, h.result("first"), map[string]any{"global": "TypeError", "eval": "undefined", "overridden": "function"})
	wantFields(t, h.result("second"), map[string]any{"cache": "undefined", "viaEval": "undefined", "helperCalls": "fresh"})

	// In sloppy mode (no 'use strict' header) an undeclared assignment
	// makes a global that lasts for the invocation only.
	sloppy := `function OnUpdate(doc, meta) {
  if (doc.n === 1) { leaked = 1; globalThis.other = 2; dst['first'] = {leaked: leaked + other}; return; }
  dst['second'] = {leaked: typeof leaked, other: typeof other};
}`
	h = newHarness(t, sloppy, harnessOpts{settings: Settings{HandlerHeaders: []string{}}})
	h.mustHandle(mutation("a", `{"n": 1}`))
	h.mustHandle(mutation("b", `{"n": 2}`))
	wantFields(t, h.result("first"), map[string]any{"leaked": 3})
	wantFields(t, h.result("second"), map[string]any{"leaked": "undefined", "other": "undefined"})
}

func TestRules_NoRequireNoTimersOfTheHost(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {require: typeof require, module: typeof module, setTimeout: typeof setTimeout,
    setInterval: typeof setInterval, process: typeof process};
  try { require('fs'); r.call = 'no exception'; } catch (e) { r.call = e.name; }
  dst['result'] = r;
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"require": "undefined", "module": "undefined", "setTimeout": "undefined", "setInterval": "undefined",
		"process": "undefined", "call": "ReferenceError",
	})
}

func TestRules_GlobalScopeAndStrictMode(t *testing.T) {
	// The default header puts the code in strict mode: an undeclared
	// assignment throws instead of creating a global.
	h := newHarness(t, "function OnUpdate(doc, meta) {\n  undeclared = 1;\n}", harnessOpts{})
	var ie *InvocationError
	if err := h.handle(mutation("k", `{}`)); !errors.As(err, &ie) || !strings.Contains(ie.Message, "ReferenceError") {
		t.Errorf("Handle = %v, want a ReferenceError", err)
	}
	// Global variables and statements are refused with their position.
	for _, stmt := range []string{"var counter = 0;", "const cache = {};", "let seen = new Set();", "counter++;"} {
		_, err := Compile("function OnUpdate(doc, meta) {}\n  "+stmt, Settings{}, nil, nil)
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Line != 2 || ce.Column != 3 ||
			!strings.HasPrefix(ce.Message, "Only functions allowed in global space, but found: ") {
			t.Errorf("%s: Compile = %v, want the global-scope error at 2:3", stmt, err)
		}
	}
}

func TestCompat_KVErrorShape(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  try {
    var v = dst['missing'];
  } catch (e) {
    log('error:', e);
    dst['result'] = {json: JSON.stringify(e.message), kv: e instanceof KVError, err: e instanceof Error,
      keys: Object.keys(e).join(), stackStart: e.stack.split('\n')[0],
      stackLine: e.stack.indexOf('at OnUpdate (handler.js:3:') >= 0};
  }
}`, harnessOpts{settings: Settings{LanguageCompatibility: Lang600}})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"json": `{"code":272,"desc":"The document key does not exist on the server","name":"LCB_KEY_ENOENT"}`,
		"kv":   true, "err": true, "keys": "message,stack", "stackStart": "KVError", "stackLine": true,
	})
	msgs := h.logMessages()
	want := `[INFO] "error:" {"message":{"code":272,"desc":"The document key does not exist on the server","name":"LCB_KEY_ENOENT"},` +
		`"stack":"KVError\n\tat OnUpdate (handler.js:3:`
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0], want) {
		t.Errorf("log = %q\nwant prefix %q", msgs, want)
	}
	h.wantStat("bucket_op_exception_count", 1)
}

func TestCompat_BasicAccessorBadKeysAndValues(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  var cases = {
    getSym: function () { return dst[Symbol('k')]; },
    setSym: function () { dst[Symbol('k')] = 1; },
    delSym: function () { delete dst[Symbol('k')]; },
    setUndefined: function () { dst['k'] = undefined; },
    setFunction: function () { dst['k'] = function () {}; },
    setSymbolValue: function () { dst['k'] = Symbol('v'); },
    readOnlySym: function () { delete src[Symbol('k')]; },
  };
  for (const name in cases) {
    try { cases[name](); r[name] = 'no exception'; } catch (e) { r[name] = e.name + ': ' + e.message; }
  }
  dst['result'] = r;
}`, harnessOpts{})
	h.mustHandle(mutation("k0", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"getSym":         "EventingError: Invalid data type for key - Symbol is not supported",
		"setSym":         "EventingError: Invalid data type for key - Symbol is not supported",
		"delSym":         "KVError: Invalid data type for key - Symbol is not supported", // as Couchbase throws it
		"setUndefined":   "EventingError: Invalid data type for value - undefined is not supported",
		"setFunction":    "EventingError: Invalid data type for value - function is not supported",
		"setSymbolValue": "EventingError: Invalid data type for value - Symbol is not supported",
		"readOnlySym":    "KVError: Invalid data type for key - Symbol is not supported", // the key is checked first
	})
	if _, stored := h.store.doc(dstKS, "k"); stored {
		t.Error("an invalid value was stored")
	}
	h.wantStat("bucket_op_exception_count", 7)
}

func TestCompat_DeletionMeta(t *testing.T) {
	h := newHarness(t, `function OnDelete(meta, options) {
  dst['result'] = {keys: Object.keys(meta).join(), flags: meta.flags, datatype: meta.datatype,
    expiry: meta.expiry_date instanceof Date && meta.expiry_date.getTime() === meta.expiration * 1000,
    options: JSON.stringify(options)};
}`, harnessOpts{})
	ev := docstore.Event{Kind: docstore.EventExpiration, Keyspace: srcKS, Doc: &docstore.Document{
		Key: "e", CAS: 9, Flags: 7, Deleted: true, Expiry: 1900000000, Datatype: docstore.DatatypeBinary}}
	h.mustHandle(ev)
	wantFields(t, h.result("result"), map[string]any{
		"keys":  "id,cas,flags,vb,seq,datatype,expiration,keyspace,expiry_date",
		"flags": 0, "datatype": "json", "expiry": true, "options": `{"expired":true}`,
	})
}

func TestCompat_AdvancedMetaWithoutID(t *testing.T) {
	// A meta object without id (or with a Symbol id) is a TypeError, not a
	// broken worker.
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var r = {};
  for (const [name, m] of [['none', {}], ['sym', {id: Symbol('x')}], ['num', {id: 5}],
      ['wild', {id: 'x', keyspace: {}}]]) {
    try { couchbase.get(name === 'wild' ? any : dst, m); r[name] = 'no exception'; } catch (e) { r[name] = e.name + ': ' + e.message; }
  }
  dst['result'] = r;
}`, harnessOpts{bindings: append(defaultBindings(), Binding{Alias: "any", Keyspace: docstore.Keyspace{Bucket: "b", Scope: "*", Collection: "*"}})})
	if err := h.w.Handle(context.Background(), mutation("k", `{}`), h.store); err != nil {
		t.Fatalf("Handle = %v", err)
	}
	wantFields(t, h.result("result"), map[string]any{
		"none": "TypeError: couchbase.get: meta.id must be a non-empty string",
		"sym":  "TypeError: couchbase.get: meta.id must be a non-empty string",
		"num":  "TypeError: couchbase.get: meta.id must be a non-empty string",
		"wild": "EventingError: Inconsistent wildcard usage. scope_name should be provided in the meta object",
	})
}
