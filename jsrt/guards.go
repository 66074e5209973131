package jsrt

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
//   - JSON.stringify (also behind Stringify: every bucket write, timer context
//     and curl body) costs the square of the nesting and recurses in Go: values
//     nested deeper than maxNesting, or that would serialise to more than
//     maxStringifyBytes, are refused with V8's RangeErrors first;
//   - JSON.parse, Array.prototype.join/toString/toLocaleString and flat
//     recurse in Go with the nesting: refused past maxNesting;
//   - Array.prototype.fill and map, Array.from, String.prototype.repeat,
//     padStart and padEnd build their whole result in one call, which the memory
//     guard can only stop once it returns (new Array(1e8).fill(0) takes a
//     minute and 7 GB): refused up front when the result alone would
//     exceed the invocation's memory budget, or V8's longest string.

// RegexMatchLimit bounds one regular-expression match. A match that needs
// longer is catastrophic backtracking; the invocation then ends as a
// timeout (ErrRegexLimit) instead of spinning a core past its timeout.
const RegexMatchLimit = time.Second

const (
	// maxNesting is the deepest value the guarded built-ins accept, the
	// limit of stored documents (encoding/json's and DecodeJSON's).
	maxNesting = MaxJSONDepth
	// maxStringifyBytes approximates V8's longest string (2^29 - 24
	// characters): a larger JSON.stringify result fails as in V8.
	maxStringifyBytes = 1 << 29
	// maxStringLength is V8's longest string, in UTF-16 code units.
	maxStringLength = 1<<29 - 24
	// bytesPerElement is what one array element costs goja, at least.
	bytesPerElement = 16
)

func init() {
	// goja compiles backtracking patterns with regexp2, which reads this
	// default at compile time; nothing else in eventide uses regexp2.
	regexp2.DefaultMatchTimeout = RegexMatchLimit
}

// InstallGuards wraps the guarded built-ins. Run it first, so that the
// other installers (and Stringify) use the guarded versions.
func (r *Runtime) InstallGuards() error {
	global := r.vm.GlobalObject()
	wrap := func(owner *goja.Object, name string, guard func(orig goja.Callable, call goja.FunctionCall) goja.Value) error {
		orig, ok := goja.AssertFunction(owner.Get(name))
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotAFunction, name)
		}
		fn := r.vm.ToValue(func(call goja.FunctionCall) goja.Value { return guard(orig, call) })
		// Built-in methods are writable, configurable and not enumerable.
		return owner.DefineDataProperty(name, fn, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	}
	proto := func(ctor string) *goja.Object {
		return global.Get(ctor).ToObject(r.vm).Get("prototype").ToObject(r.vm)
	}
	var ok bool
	if r.rangeErrorCtor, ok = goja.AssertConstructor(global.Get("RangeError")); !ok {
		return fmt.Errorf("%w: RangeError", ErrNotAFunction)
	}
	jsonObj := global.Get("JSON").ToObject(r.vm)
	arrayProto := proto("Array")
	steps := []struct {
		owner *goja.Object
		name  string
		guard func(goja.Callable, goja.FunctionCall) goja.Value
	}{
		{proto("RegExp"), "exec", r.guardRegexp},
		{proto("RegExp"), "test", r.guardRegexp}, // goja's test does not go through exec
		{jsonObj, "stringify", r.guardStringify},
		{jsonObj, "parse", r.guardParse},
		{arrayProto, "join", r.guardNestedCall},
		{arrayProto, "toString", r.guardNestedCall},
		{arrayProto, "toLocaleString", r.guardNestedCall},
		{arrayProto, "flat", r.guardFlat},
		{arrayProto, "fill", r.guardFill},
		{arrayProto, "map", r.guardMap},
		{global.Get("Array").ToObject(r.vm), "from", r.guardArrayFrom},
		{proto("String"), "repeat", r.guardRepeat},
		{proto("String"), "padStart", r.guardPad},
		{proto("String"), "padEnd", r.guardPad},
	}
	for _, s := range steps {
		if err := wrap(s.owner, s.name, s.guard); err != nil {
			return err
		}
	}
	// Bucket writes, timer contexts and curl bodies serialise through it.
	if r.jsonStringify, ok = goja.AssertFunction(jsonObj.Get("stringify")); !ok {
		return fmt.Errorf("%w: JSON.stringify", ErrNotAFunction)
	}
	return nil
}

// guardRegexp runs RegExp.prototype.exec or test (once exec is replaced,
// every other regular-expression method goes through it). After a match
// that hit regexp2's limit, whose "no match" is not the true answer, it
// ends the invocation as a timeout; until then later matches do not run.
func (r *Runtime) guardRegexp(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if r.regexOverrun {
		return goja.Null()
	}
	start := time.Now()
	v := r.CallJS(orig, call.This, call.Arguments...)
	if time.Since(start) >= RegexMatchLimit {
		r.regexOverrun = true
		r.mu.Lock()
		if r.running {
			r.vm.Interrupt(interruptCause{ErrRegexLimit})
		}
		r.mu.Unlock()
	}
	return v
}

// throwRange throws a JavaScript RangeError (with the constructor found at
// install time: user code may replace the global).
func (r *Runtime) throwRange(msg string) {
	obj, err := r.rangeErrorCtor(nil, r.vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	panic(obj)
}

func (r *Runtime) guardStringify(orig goja.Callable, call goja.FunctionCall) goja.Value {
	r.checkSerializable(call.Argument(0))
	return r.CallJS(orig, call.This, call.Arguments...)
}

// checkSerializable throws V8's RangeErrors for a value nested deeper than
// maxNesting or whose JSON would exceed maxStringifyBytes. It reads own
// enumerable properties and calls toJSON methods as JSON.stringify does
// (so a toJSON with side effects runs twice; a replacer is not applied),
// counting a value shared by several parents once per parent, as its
// output would.
func (r *Runtime) checkSerializable(v goja.Value) {
	obj, ok := v.(*goja.Object)
	if !ok {
		return
	}
	c := &r.serial
	if c.seen == nil {
		c.seen, c.onPath = map[*goja.Object]serialSize{}, map[*goja.Object]bool{}
	}
	c.vm = r.vm                                       // new after each Reset
	defer func() { clear(c.seen); clear(c.onPath) }() // kept for the next call
	switch sz := c.size(obj, "", 1); {
	case sz.bytes == serialTooDeep:
		r.throwRange("Maximum call stack size exceeded")
	case sz.bytes == serialTooLarge:
		r.throwRange("Invalid string length")
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
func (r *Runtime) guardParse(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if jsonNesting(call.Argument(0).String()) > maxNesting {
		r.throwRange("Maximum call stack size exceeded")
	}
	return r.CallJS(orig, call.This, call.Arguments...)
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
func (r *Runtime) guardNestedCall(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if r.nestedCalls >= maxNesting {
		r.throwRange("Maximum call stack size exceeded")
	}
	r.nestedCalls++
	defer func() { r.nestedCalls-- }()
	return r.CallJS(orig, call.This, call.Arguments...)
}

// guardFlat refuses flat() to a depth the array really reaches past
// maxNesting, before the built-in recurses into it.
func (r *Runtime) guardFlat(orig goja.Callable, call goja.FunctionCall) goja.Value {
	depth := 1.0
	if a := call.Argument(0); !goja.IsUndefined(a) {
		depth = a.ToFloat()
	}
	if obj, ok := call.This.(*goja.Object); ok && (depth > maxNesting || math.IsInf(depth, 1)) {
		if arrayNesting(obj, maxNesting+1) > maxNesting {
			r.throwRange("Maximum call stack size exceeded")
		}
	}
	return r.CallJS(orig, call.This, call.Arguments...)
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
func (r *Runtime) checkElements(n float64) {
	if n > 0 && r.memBudget > 0 && n*bytesPerElement > float64(r.memBudget) {
		r.throwRange(fmt.Sprintf("Invalid array length: %.0f elements exceed the function's memory budget of %d MiB",
			n, r.memBudget>>20))
	}
}

// checkStringLength refuses a string of n code units longer than V8's
// longest or larger than the invocation's memory budget.
func (r *Runtime) checkStringLength(n float64) {
	if n > maxStringLength || (r.memBudget > 0 && 2*n > float64(r.memBudget)) {
		r.throwRange("Invalid string length")
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
func (r *Runtime) guardFill(orig goja.Callable, call goja.FunctionCall) goja.Value {
	length := lengthOf(call.This)
	start := relativeIndex(call.Argument(1), length, 0)
	end := relativeIndex(call.Argument(2), length, length)
	r.checkElements(end - start)
	return r.CallJS(orig, call.This, call.Arguments...)
}

// guardArrayFrom refuses an array-like whose length alone exceeds the
// budget (Array.from({length: 1e8}) builds every element in one call).
func (r *Runtime) guardArrayFrom(orig goja.Callable, call goja.FunctionCall) goja.Value {
	switch a := call.Argument(0).(type) {
	case *goja.Object:
		r.checkElements(lengthOf(a)) // a (sparse) array or an array-like
	case goja.String:
		r.checkElements(float64(a.Length()))
	}
	return r.CallJS(orig, call.This, call.Arguments...)
}

// guardMap refuses to map an array whose length alone exceeds the budget:
// the result is allocated dense even for a sparse array.
func (r *Runtime) guardMap(orig goja.Callable, call goja.FunctionCall) goja.Value {
	r.checkElements(lengthOf(call.This))
	return r.CallJS(orig, call.This, call.Arguments...)
}

func (r *Runtime) guardRepeat(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if s, ok := call.This.(goja.String); ok {
		if n := call.Argument(0).ToFloat(); n > 0 && !math.IsInf(n, 1) {
			r.checkStringLength(float64(s.Length()) * math.Trunc(n))
		}
	}
	return r.CallJS(orig, call.This, call.Arguments...)
}

func (r *Runtime) guardPad(orig goja.Callable, call goja.FunctionCall) goja.Value {
	if n := call.Argument(0).ToFloat(); n > 0 && !math.IsInf(n, 1) {
		r.checkStringLength(math.Trunc(n))
	}
	return r.CallJS(orig, call.This, call.Arguments...)
}
