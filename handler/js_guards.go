package handler

import (
	"fmt"
	"math"
	"time"

	"github.com/dlclark/regexp2/v2"
	"github.com/dop251/goja"
)

// Guards for built-ins whose work happens in Go, out of reach of the
// execution timeout (goja checks interrupts only between JavaScript
// instructions), or whose Go recursion follows the nesting of a value deep
// enough to overflow the goroutine stack, a fatal error that no recover
// catches and that would take the node down:
//   - a backtracking regular expression runs until it is done; regexp2's
//     match timeout stops one match, and the exec wrapper turns that into
//     the invocation's timeout;
//   - JSON.stringify (also behind every bucket write, timer context and curl
//     body) costs the square of the nesting and recurses in Go: values
//     nested deeper than maxNesting, or that would serialise to more than
//     maxStringifyBytes, are refused with V8's RangeErrors first;
//   - JSON.parse, Array.prototype.join/toString/toLocaleString and flat
//     recurse in Go with the nesting: refused past maxNesting;
//   - Array.prototype.fill and map, Array.from, String.prototype.repeat,
//     padStart and padEnd build their whole result in one call, which the memory
//     guard can only stop once it returns (new Array(1e8).fill(0) takes a
//     minute and 7 GB): refused up front when the result alone would
//     exceed the invocation's memory budget, or V8's longest string.

const (
	// maxNesting is the deepest value the guarded built-ins accept, the
	// limit of stored documents (encoding/json's and jsondecode.go's).
	maxNesting = maxJSONDepth
	// regexMatchLimit bounds one regular-expression match. A match that
	// needs longer is catastrophic backtracking; the invocation then ends as
	// a timeout instead of spinning a core past its execution_timeout.
	regexMatchLimit = time.Second
	// maxStringifyBytes approximates V8's longest string (2^29 - 24
	// characters): a larger JSON.stringify result fails as in V8.
	maxStringifyBytes = 1 << 29
	// maxStringLength is V8's longest string, in UTF-16 code units.
	maxStringLength = 1<<29 - 24
	// bytesPerElement is what one array element costs goja, at least.
	bytesPerElement = 16
)

// errRegexLimit ends an invocation whose regular expression ran past
// regexMatchLimit; it counts as a timeout.
var errRegexLimit = fmt.Errorf("%w: a regular expression match ran longer than %s", ErrTimeout, regexMatchLimit)

func init() {
	// goja compiles backtracking patterns with regexp2, which reads this
	// default at compile time; nothing else in eventide uses regexp2.
	regexp2.DefaultMatchTimeout = regexMatchLimit
}

// installGuards wraps the guarded built-ins. It runs before the other
// installers so that theirs (and w.jsonStringify) use the guarded versions.
func (w *Worker) installGuards() error {
	global := w.vm.GlobalObject()
	wrap := func(owner *goja.Object, name string, guard func(orig goja.Callable, call goja.FunctionCall) goja.Value) error {
		orig, ok := goja.AssertFunction(owner.Get(name))
		if !ok {
			return fmt.Errorf("%w: %s", errNotAFunction, name)
		}
		fn := w.vm.ToValue(func(call goja.FunctionCall) goja.Value { return guard(orig, call) })
		// Built-in methods are writable, configurable and not enumerable.
		return owner.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	proto := func(ctor string) *goja.Object {
		return global.Get(ctor).ToObject(w.vm).Get("prototype").ToObject(w.vm)
	}
	var ok bool
	if w.rangeErrorCtor, ok = goja.AssertConstructor(global.Get("RangeError")); !ok {
		return fmt.Errorf("%w: RangeError", errNotAFunction)
	}
	jsonObj := global.Get("JSON").ToObject(w.vm)
	arrayProto := proto("Array")
	steps := []struct {
		owner *goja.Object
		name  string
		guard func(goja.Callable, goja.FunctionCall) goja.Value
	}{
		{proto("RegExp"), "exec", w.guardRegexp},
		{proto("RegExp"), "test", w.guardRegexp}, // goja's test does not go through exec
		{jsonObj, "stringify", w.guardStringify},
		{jsonObj, "parse", w.guardParse},
		{arrayProto, "join", w.guardNestedCall},
		{arrayProto, "toString", w.guardNestedCall},
		{arrayProto, "toLocaleString", w.guardNestedCall},
		{arrayProto, "flat", w.guardFlat},
		{arrayProto, "fill", w.guardFill},
		{arrayProto, "map", w.guardMap},
		{global.Get("Array").ToObject(w.vm), "from", w.guardArrayFrom},
		{proto("String"), "repeat", w.guardRepeat},
		{proto("String"), "padStart", w.guardPad},
		{proto("String"), "padEnd", w.guardPad},
	}
	for _, s := range steps {
		if err := wrap(s.owner, s.name, s.guard); err != nil {
			return err
		}
	}
	// Bucket writes, timer contexts and curl bodies serialise through it.
	if w.jsonStringify, ok = goja.AssertFunction(jsonObj.Get("stringify")); !ok {
		return fmt.Errorf("%w: JSON.stringify", errNotAFunction)
	}
	return nil
}

// guardRegexp runs RegExp.prototype.exec or test (once exec is replaced,
// every other regular-expression method goes through it). After a match
// that hit regexp2's limit, whose "no match" is not the true answer, it
// ends the invocation as a timeout; until then later matches do not run.
func (w *Worker) guardRegexp(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if w.regexOverrun {
		return goja.Null()
	}
	start := time.Now()
	v := w.callJS(orig, call.This, call.Arguments...)
	if time.Since(start) >= regexMatchLimit {
		w.regexOverrun = true
		w.mu.Lock()
		if w.running {
			w.vm.Interrupt(interruptCause{errRegexLimit})
		}
		w.mu.Unlock()
	}
	return v
}

// throwRange throws a JavaScript RangeError (with the constructor found at
// install time: the handler may replace the global).
func (w *Worker) throwRange(msg string) {
	obj, err := w.rangeErrorCtor(nil, w.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(obj)
}

func (w *Worker) guardStringify(orig goja.Callable, call goja.FunctionCall) goja.Value {
	w.checkSerializable(call.Argument(0))
	return w.callJS(orig, call.This, call.Arguments...)
}

// checkSerializable throws V8's RangeErrors for a value nested deeper than
// maxNesting or whose JSON would exceed maxStringifyBytes. It reads own
// enumerable properties and calls toJSON methods as JSON.stringify does
// (so a toJSON with side effects runs twice; a replacer is not applied),
// counting a value shared by several parents once per parent, as its
// output would.
func (w *Worker) checkSerializable(v goja.Value) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return
	}
	c := &w.serial
	if c.seen == nil {
		c.seen, c.onPath = map[*goja.Object]serialSize{}, map[*goja.Object]bool{}
	}
	c.vm = w.vm                                       // a rebuilt worker has a new runtime
	defer func() { clear(c.seen); clear(c.onPath) }() // kept for the next call
	switch r := c.size(obj, "", 1); {
	case r.bytes == serialTooDeep:
		w.throwRange("Maximum call stack size exceeded")
	case r.bytes == serialTooLarge:
		w.throwRange("Invalid string length")
	}
}

// serialCheck holds checkSerializable's scratch maps, reused across calls.
type serialCheck struct {
	vm     *goja.Runtime
	seen   map[*goja.Object]serialSize // objects measured
	onPath map[*goja.Object]bool       // objects being measured (cycle detection)
}

// serialSize is an object's estimated JSON bytes and its nesting height.
type serialSize struct {
	bytes  int64
	height int
}

// Results of serialCheck.size that are not sizes.
const (
	serialTooDeep  = -1
	serialTooLarge = -2
)

func (c *serialCheck) size(o *goja.Object, key string, depth int) serialSize {
	if depth > maxNesting {
		return serialSize{bytes: serialTooDeep}
	}
	if toJSON, ok := goja.AssertFunction(o.Get("toJSON")); ok {
		r, err := toJSON(o, c.vm.ToValue(key))
		if err != nil {
			return serialSize{} // JSON.stringify throws the same on its own call
		}
		ro, ok := r.(*goja.Object)
		if !ok || ro == o {
			return serialSize{bytes: 16}
		}
		o = ro
	}
	if r, ok := c.seen[o]; ok {
		if depth+r.height > maxNesting {
			return serialSize{bytes: serialTooDeep}
		}
		return r
	}
	if c.onPath[o] {
		return serialSize{} // a cycle: JSON.stringify itself throws its TypeError
	}
	c.onPath[o] = true
	r := serialSize{bytes: 2, height: 1}
	for _, k := range o.Keys() {
		r.bytes += int64(len(k)) + 4
		switch v := o.Get(k).(type) {
		case *goja.Object:
			cr := c.size(v, k, depth+1)
			if cr.bytes < 0 {
				return cr
			}
			r.bytes += cr.bytes
			r.height = max(r.height, cr.height+1)
		case goja.String:
			r.bytes += int64(v.Length()) + 2
		default:
			r.bytes += 8
		}
		if r.bytes > maxStringifyBytes {
			return serialSize{bytes: serialTooLarge}
		}
	}
	delete(c.onPath, o)
	c.seen[o] = r
	return r
}

// guardParse refuses JSON text nested deeper than maxNesting before
// JSON.parse recurses into it.
func (w *Worker) guardParse(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if jsonNesting(call.Argument(0).String()) > maxNesting {
		w.throwRange("Maximum call stack size exceeded")
	}
	return w.callJS(orig, call.This, call.Arguments...)
}

// jsonNesting is the deepest bracket nesting of text outside strings (an
// upper bound of the nesting of what JSON.parse would build from it).
func jsonNesting(text string) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case inString:
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// guardNestedCall bounds the recursion of join, toString and
// toLocaleString through nested arrays: each level calls the guarded
// method again, so a counter of active calls is the nesting.
func (w *Worker) guardNestedCall(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if w.nestedCalls >= maxNesting {
		w.throwRange("Maximum call stack size exceeded")
	}
	w.nestedCalls++
	defer func() { w.nestedCalls-- }()
	return w.callJS(orig, call.This, call.Arguments...)
}

// guardFlat refuses flat() to a depth the array really reaches past
// maxNesting, before the built-in recurses into it.
func (w *Worker) guardFlat(orig goja.Callable, call goja.FunctionCall) goja.Value {
	depth := 1.0
	if a := call.Argument(0); !goja.IsUndefined(a) {
		depth = a.ToFloat()
	}
	if obj, ok := call.This.(*goja.Object); ok && (depth > maxNesting || math.IsInf(depth, 1)) {
		if arrayNesting(obj, maxNesting+1) > maxNesting {
			w.throwRange("Maximum call stack size exceeded")
		}
	}
	return w.callJS(orig, call.This, call.Arguments...)
}

// arrayNesting is the nesting of arrays in a, up to limit.
func arrayNesting(a *goja.Object, limit int) int {
	type frame struct {
		a     *goja.Object
		depth int
	}
	deepest := 0
	seen := map[*goja.Object]bool{}
	stack := []frame{{a, 1}}
	for len(stack) > 0 && deepest < limit {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[f.a] || f.a.ClassName() != "Array" {
			continue
		}
		seen[f.a] = true
		deepest = max(deepest, f.depth)
		for _, k := range f.a.Keys() {
			if c, ok := f.a.Get(k).(*goja.Object); ok {
				stack = append(stack, frame{c, f.depth + 1})
			}
		}
	}
	return deepest
}

// checkElements refuses an array of n elements that alone would exceed the
// invocation's memory budget.
func (w *Worker) checkElements(n float64) {
	if n > 0 && w.memBudget > 0 && n*bytesPerElement > float64(w.memBudget) {
		w.throwRange(fmt.Sprintf("Invalid array length: %.0f elements exceed the function's memory budget of %d MiB",
			n, w.memBudget>>20))
	}
}

// checkStringLength refuses a string of n code units longer than V8's
// longest or larger than the invocation's memory budget.
func (w *Worker) checkStringLength(n float64) {
	if n > maxStringLength || (w.memBudget > 0 && 2*n > float64(w.memBudget)) {
		w.throwRange("Invalid string length")
	}
}

// relativeIndex resolves a fill/slice-style index argument against length.
func relativeIndex(v goja.Value, length, def float64) float64 {
	if v == nil || goja.IsUndefined(v) {
		return def
	}
	i := v.ToFloat()
	switch {
	case math.IsNaN(i):
		return 0
	case i < 0:
		return max(length+math.Trunc(i), 0)
	}
	return min(math.Trunc(i), length)
}

// lengthOf reads an object's length property as a number (0 if absent).
func lengthOf(v goja.Value) float64 {
	obj, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	l := obj.Get("length")
	if l == nil || goja.IsUndefined(l) {
		return 0
	}
	n := l.ToFloat()
	if math.IsNaN(n) || n < 0 {
		return 0
	}
	return n
}

// guardFill refuses to fill more elements than the budget allows (fill
// makes a sparse array dense).
func (w *Worker) guardFill(orig goja.Callable, call goja.FunctionCall) goja.Value {
	length := lengthOf(call.This)
	start := relativeIndex(call.Argument(1), length, 0)
	end := relativeIndex(call.Argument(2), length, length)
	w.checkElements(end - start)
	return w.callJS(orig, call.This, call.Arguments...)
}

// guardArrayFrom refuses an array-like whose length alone exceeds the
// budget (Array.from({length: 1e8}) builds every element in one call).
func (w *Worker) guardArrayFrom(orig goja.Callable, call goja.FunctionCall) goja.Value {
	switch a := call.Argument(0).(type) {
	case *goja.Object:
		w.checkElements(lengthOf(a)) // a (sparse) array or an array-like
	case goja.String:
		w.checkElements(float64(a.Length()))
	}
	return w.callJS(orig, call.This, call.Arguments...)
}

// guardMap refuses to map an array whose length alone exceeds the budget:
// the result is allocated dense even for a sparse array.
func (w *Worker) guardMap(orig goja.Callable, call goja.FunctionCall) goja.Value {
	w.checkElements(lengthOf(call.This))
	return w.callJS(orig, call.This, call.Arguments...)
}

func (w *Worker) guardRepeat(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if s, ok := call.This.(goja.String); ok {
		if n := call.Argument(0).ToFloat(); n > 0 && !math.IsInf(n, 1) {
			w.checkStringLength(float64(s.Length()) * math.Trunc(n))
		}
	}
	return w.callJS(orig, call.This, call.Arguments...)
}

func (w *Worker) guardPad(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if n := call.Argument(0).ToFloat(); n > 0 && !math.IsInf(n, 1) {
		w.checkStringLength(math.Trunc(n))
	}
	return w.callJS(orig, call.This, call.Arguments...)
}
