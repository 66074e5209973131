package handler

import (
	"errors"
	"strings"
	"testing"
	"time"

	"eventide/jsrt"
)

// A catastrophic regular expression ends its invocation as a timeout soon
// after jsrt.RegexMatchLimit, even under a longer execution_timeout, and
// cannot be caught; the worker then handles the next event normally.
func TestGuards_BacktrackingRegexEndsAsTimeout(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  if (doc.evil) {
    try { /^(?=a)(a+)+$/.test('a'.repeat(40) + 'b'); } catch (e) { dst['caught'] = 1; }
    dst['after'] = 1;
  }
  dst[meta.id] = {
    test: /b+/.test('abbc'), exec: /x(y)/.exec('xy')[1], replace: 'abcb'.replace(/b/g, 'x'),
    split: 'a,b;c'.split(/[,;]/).length, match: 'aaa'.match(/a/g).length, search: 'hello'.search(/l+/),
    all: Array.from('a1b2'.matchAll(/\d/g)).length, sticky: (function () { var r = /a/y; r.lastIndex = 1; return r.test('ba'); })(),
  };
}`, harnessOpts{settings: Settings{ExecutionTimeout: 30 * time.Second}})
	start := time.Now()
	err := h.handle(mutation("evil", `{"evil": true}`))
	elapsed := time.Since(start)
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrTimeout) || !strings.Contains(ie.Message, "regular expression") {
		t.Fatalf("Handle = %v, want a timeout naming the regular expression", err)
	}
	// Far below the 30 s execution_timeout: the match limit ended it.
	if elapsed > jsrt.RegexMatchLimit+5*time.Second {
		t.Errorf("the invocation ran %v", elapsed)
	}
	if ie.Line != 3 {
		t.Errorf("timeout at line %d, want 3", ie.Line)
	}
	for _, k := range []string{"caught", "after", "evil"} {
		if _, ok := h.store.doc(dstKS, k); ok {
			t.Errorf("%q was written after the interruption", k)
		}
	}
	h.wantStat("timeout_count", 1)
	h.mustHandle(mutation("fine", `{}`))
	wantFields(t, h.result("fine"), map[string]any{
		"test": true, "exec": "y", "replace": "axcx", "split": 3, "match": 3, "search": 2, "all": 2, "sticky": true,
	})
}

// Values too deep or too large for JSON fail with V8's RangeErrors, which
// a handler can catch, instead of recursing in Go or running for minutes.
func TestGuards_JSONAndArrayNesting(t *testing.T) {
	h := newHarness(t, `function chain(n) { var o = {}; for (var i = 0; i < n; i++) o = {c: o}; return o; }
function nest(n) { var a = []; for (var i = 0; i < n; i++) a = [a]; return a; }
function attempt(f) { try { f(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } }
function OnUpdate(doc, meta) {
  var deep = chain(20000), deepArr = nest(20000);
  var dag = {}; for (var i = 0; i < 40; i++) dag = {x: dag, y: dag};
  var cyc = {}; cyc.self = cyc;
  var shared = chain(9000), viaShared = {a: shared, b: chain(2000)};
  for (var p = viaShared.b; Object.keys(p.c).length; p = p.c) {}
  p.c = shared; // 9,000 levels met first at depth 2, then again at depth 2,002
  var viaToJSON = {toJSON: function () { return deep; }};
  dst[meta.id] = {
    stringify: attempt(function () { JSON.stringify(deep); }),
    write: attempt(function () { dst['deep'] = deep; }),
    parse: attempt(function () { JSON.parse('['.repeat(20000) + ']'.repeat(20000)); }),
    string: attempt(function () { String(deepArr); }),
    join: attempt(function () { deepArr.join('-'); }),
    flat: attempt(function () { deepArr.flat(Infinity); }),
    dag: attempt(function () { JSON.stringify(dag); }),
    cycle: attempt(function () { JSON.stringify(cyc); }),
    shared: attempt(function () { JSON.stringify(viaShared); }),
    toJSON: attempt(function () { JSON.stringify({x: viaToJSON}); }),
    date: JSON.stringify({d: new Date(0)}),
    okStringify: JSON.stringify(chain(100)).length,
    okParse: JSON.parse('{"a":[1,{"b":2}]}', function (k, v) { return k === 'b' ? v + 1 : v; }).a[1].b,
    okString: String([1, [2, [3, [4]]]]),
    okFlat: [1, [2, [3, [4]]]].flat(Infinity).length,
    okLocale: [1, [2]].toLocaleString(),
  };
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	const stack = "RangeError: Maximum call stack size exceeded"
	wantFields(t, h.result("k"), map[string]any{
		"stringify": stack, "write": stack, "shared": stack, "toJSON": stack,
		"date": `{"d":"1970-01-01T00:00:00.000Z"}`, "parse": stack, "string": stack, "join": stack, "flat": stack,
		"dag":         "RangeError: Invalid string length",
		"okStringify": 602, "okParse": 3, "okString": "1,2,3,4", "okFlat": 4, "okLocale": "1,2",
	})
	if got := h.result("k")["cycle"]; !strings.HasPrefix(got.(string), "TypeError") {
		t.Errorf("a cycle gave %v, want JSON.stringify's TypeError", got)
	}
	if _, ok := h.store.doc(dstKS, "deep"); ok {
		t.Error("the too-deep value was written")
	}
}

// Built-ins that build a whole result in one call refuse one that alone
// would exceed the invocation's memory budget, or V8's longest string,
// instead of allocating gigabytes where no interrupt reaches; ordinary
// uses are unchanged.
func TestGuards_OneCallAllocations(t *testing.T) {
	h := newHarness(t, `function attempt(f) { try { f(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } }
function OnUpdate(doc, meta) {
  dst[meta.id] = {
    fill: attempt(function () { new Array(1e8).fill(0); }),
    fillPart: attempt(function () { new Array(1e8).fill(0, 1e8 - 10); }),
    from: attempt(function () { Array.from({length: 1e8}); }),
    fromSparse: attempt(function () { Array.from(new Array(1e8)); }),
    map: attempt(function () { new Array(1e8).map(function (x) { return 1; }); }),
    okMap: [1, 2, 3].map(function (x) { return x * 2; }).join(','),
    repeat: attempt(function () { 'x'.repeat(Math.pow(2, 29)); }),
    pad: attempt(function () { 'x'.padStart(Math.pow(2, 29)); }),
    okFill: new Array(5).fill(1).join(''),
    okFrom: Array.from({length: 3}, function (_, i) { return i * 2; }).join(','),
    okFromIter: Array.from(new Set([1, 2])).length + Array.from('abc').length,
    okRepeat: 'ab'.repeat(3),
    okPad: '5'.padStart(3, '0') + '5'.padEnd(3, '-'),
  };
}`, harnessOpts{settings: Settings{MemoryBudget: 64 << 20}})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("k"), map[string]any{
		"fill":       "RangeError: Invalid array length: 100000000 elements exceed the function's memory budget of 64 MiB",
		"fillPart":   "ok",
		"from":       "RangeError: Invalid array length: 100000000 elements exceed the function's memory budget of 64 MiB",
		"fromSparse": "RangeError: Invalid array length: 100000000 elements exceed the function's memory budget of 64 MiB",
		"map":        "RangeError: Invalid array length: 100000000 elements exceed the function's memory budget of 64 MiB",
		"okMap":      "2,4,6",
		"repeat":     "RangeError: Invalid string length",
		"pad":        "RangeError: Invalid string length",
		"okFill":     "11111", "okFrom": "0,2,4", "okFromIter": 5, "okRepeat": "ababab", "okPad": "0055--",
	})
}
