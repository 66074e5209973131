package jsrt

import (
	"math/big"
	"reflect"

	"github.com/dop251/goja"
)

// ArrayBufferType is the type an ArrayBuffer exports as.
var ArrayBufferType = reflect.TypeOf(goja.ArrayBuffer{})

// IsFunction reports whether v is callable.
func IsFunction(v goja.Value) bool {
	_, ok := goja.AssertFunction(v)
	return ok
}

// IsSymbol reports whether v is a Symbol.
func IsSymbol(v goja.Value) bool {
	_, ok := v.(*goja.Symbol)
	return ok
}

// JSString returns a JavaScript string's value (not a Symbol's, which goja
// also exports as a string).
func JSString(v goja.Value) (string, bool) {
	if v == nil || IsSymbol(v) {
		return "", false
	}
	s, ok := v.Export().(string)
	return s, ok
}

// RawBytes returns the bytes of an ArrayBuffer (or a view on one).
func RawBytes(v goja.Value) ([]byte, bool) {
	obj, ok := v.(*goja.Object)
	if !ok || obj.ExportType() != ArrayBufferType { // Export would copy any other object
		return nil, false
	}
	if ab, ok := obj.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes(), true
	}
	return nil, false
}

// Stringify is JSON.stringify(v) with the guarded original (user code may
// replace the global), from Go code that JavaScript called: exceptions and
// interrupts pass on to the calling JavaScript.
func (r *Runtime) Stringify(v goja.Value) goja.Value {
	return r.CallJS(r.jsonStringify, goja.Undefined(), v)
}

// JSONText is JSON.stringify(v), "undefined" when it gives undefined (as
// for undefined, functions and Symbols). Exceptions (BigInt, cycles, a
// throwing toJSON) propagate to JavaScript.
func (r *Runtime) JSONText(v goja.Value) string {
	if _, ok := v.Export().(*big.Int); ok {
		panic(r.vm.NewTypeError("Do not know how to serialize a BigInt"))
	}
	s := r.Stringify(v)
	if goja.IsUndefined(s) {
		return "undefined"
	}
	return s.String()
}
