package handler

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"math"
	"math/big"
	"strconv"

	"github.com/dop251/goja"
)

// crcISOTable is CRC-64/ISO (the polynomial of Couchbase's crc64).
var crcISOTable = crc64.MakeTable(crc64.ISO)

// couchbaseNamespace returns the global couchbase object, creating it if no
// other installer has (several areas add functions to it).
func (w *Worker) couchbaseNamespace() (*goja.Object, error) {
	if obj, ok := w.vm.Get("couchbase").(*goja.Object); ok {
		return obj, nil
	}
	obj := w.vm.NewObject()
	if err := w.vm.Set("couchbase", obj); err != nil {
		return nil, err
	}
	return obj, nil
}

// installBuiltins defines crc64 and the couchbase.* hashing and base64
// helpers (§2.10).
func (w *Worker) installBuiltins() error {
	if err := w.vm.Set("crc64", w.crc64); err != nil {
		return err
	}
	cb, err := w.couchbaseNamespace()
	if err != nil {
		return err
	}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"crc_64_go_iso":            w.crc64GoISO,
		"base64Encode":             w.base64Encode,
		"base64Decode":             w.base64Decode,
		"base64Float64ArrayEncode": func(c goja.FunctionCall) goja.Value { return w.floatArrayEncode(c, 8) },
		"base64Float64ArrayDecode": func(c goja.FunctionCall) goja.Value { return w.floatArrayDecode(c, 8) },
		"base64Float32ArrayEncode": func(c goja.FunctionCall) goja.Value { return w.floatArrayEncode(c, 4) },
		"base64Float32ArrayDecode": func(c goja.FunctionCall) goja.Value { return w.floatArrayDecode(c, 4) },
	} {
		if err := cb.Set(name, fn); err != nil {
			return err
		}
	}
	return nil
}

func crcHex(data []byte) string {
	s := strconv.FormatUint(crc64.Checksum(data, crcISOTable), 16)
	for len(s) < 16 {
		s = "0" + s
	}
	return s
}

// jsString returns a JavaScript string's value (not a Symbol's, which goja
// also exports as a string).
func jsString(v goja.Value) (string, bool) {
	if v == nil || isSymbol(v) {
		return "", false
	}
	s, ok := v.Export().(string)
	return s, ok
}

// rawBytes returns the bytes of an ArrayBuffer (or a view on one).
func rawBytes(v goja.Value) ([]byte, bool) {
	obj, ok := v.(*goja.Object)
	if !ok || obj.ExportType() != arrayBufferType { // Export would copy any other object
		return nil, false
	}
	if ab, ok := obj.Export().(goja.ArrayBuffer); ok {
		return ab.Bytes(), true
	}
	return nil, false
}

// jsonText is JSON.stringify(v), "undefined" when it gives undefined (as for
// undefined, functions and Symbols). Exceptions (BigInt, cycles, a throwing
// toJSON) propagate to JavaScript.
func (w *Worker) jsonText(v goja.Value) string {
	if _, ok := v.Export().(*big.Int); ok {
		panic(w.vm.NewTypeError("Do not know how to serialize a BigInt"))
	}
	s := w.callJS(w.jsonStringify, goja.Undefined(), v)
	if goja.IsUndefined(s) {
		return "undefined"
	}
	return s.String()
}

// crc64(x): CRC-64/ISO of JSON.stringify(x), or of an ArrayBuffer's bytes.
func (w *Worker) crc64(call goja.FunctionCall) goja.Value {
	v := call.Argument(0)
	if b, ok := rawBytes(v); ok {
		return w.vm.ToValue(crcHex(b))
	}
	return w.vm.ToValue(crcHex([]byte(w.jsonText(v))))
}

// couchbase.crc_64_go_iso(x): like crc64 but strings are hashed raw.
func (w *Worker) crc64GoISO(call goja.FunctionCall) goja.Value {
	w.needOneArg(call)
	v := call.Argument(0)
	if s, ok := jsString(v); ok {
		return w.vm.ToValue(crcHex([]byte(s)))
	}
	return w.crc64(call)
}

func (w *Worker) needOneArg(call goja.FunctionCall) {
	if len(call.Arguments) != 1 {
		w.throwEventingError("Need exactly one argument")
	}
}

// couchbase.base64Encode(x): strings raw, ArrayBuffers' bytes, anything else
// JSON.stringify'd.
func (w *Worker) base64Encode(call goja.FunctionCall) goja.Value {
	w.needOneArg(call)
	v := call.Argument(0)
	var data []byte
	if s, ok := jsString(v); ok {
		data = []byte(s)
	} else if b, ok := rawBytes(v); ok {
		data = b
	} else {
		data = []byte(w.jsonText(v))
	}
	return w.vm.ToValue(base64.StdEncoding.EncodeToString(data))
}

func (w *Worker) decodeBase64Arg(call goja.FunctionCall) []byte {
	w.needOneArg(call)
	s, ok := jsString(call.Argument(0))
	if !ok {
		w.throwEventingError("Argument should be a base64 encoded string")
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			w.throwEventingError("Argument is not a valid base64 encoded string")
		}
	}
	return data
}

// couchbase.base64Decode(str): the decoded bytes as a string.
func (w *Worker) base64Decode(call goja.FunctionCall) goja.Value {
	return w.vm.ToValue(string(w.decodeBase64Arg(call)))
}

// floatArrayEncode: base64 of the numbers as little-endian IEEE-754 values of
// size 4 or 8 bytes.
func (w *Worker) floatArrayEncode(call goja.FunctionCall, size int) goja.Value {
	w.needOneArg(call)
	obj, ok := call.Argument(0).(*goja.Object)
	if !ok || isFunction(obj) {
		w.throwEventingError("Argument should be an array of numbers")
	}
	n := obj.Get("length")
	if n == nil || goja.IsUndefined(n) {
		w.throwEventingError("Argument should be an array of numbers")
	}
	length := n.ToInteger()
	if length < 0 || length > math.MaxInt32/int64(size) {
		w.throwEventingError("Argument should be an array of numbers")
	}
	out := make([]byte, 0, int(length)*size)
	for i := int64(0); i < length; i++ {
		el := obj.Get(strconv.FormatInt(i, 10))
		var f float64
		switch x := exportNumber(el); {
		case x != nil:
			f = *x
		default:
			w.throwEventingError("Array element at index " + strconv.FormatInt(i, 10) + " is not a number")
		}
		if size == 8 {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(f))
		} else {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(f)))
		}
	}
	return w.vm.ToValue(base64.StdEncoding.EncodeToString(out))
}

func exportNumber(v goja.Value) *float64 {
	if v == nil {
		return nil
	}
	switch x := v.Export().(type) {
	case int64:
		f := float64(x)
		return &f
	case float64:
		return &x
	}
	return nil
}

// floatArrayDecode: the numbers of a base64 string of little-endian IEEE-754
// values of size 4 or 8 bytes.
func (w *Worker) floatArrayDecode(call goja.FunctionCall, size int) goja.Value {
	data := w.decodeBase64Arg(call)
	if len(data)%size != 0 {
		w.throwEventingError("Decoded length " + strconv.Itoa(len(data)) + " is not a multiple of " + strconv.Itoa(size))
	}
	out := make([]any, len(data)/size)
	for i := range out {
		if size == 8 {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[i*8:]))
		} else {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i*4:])))
		}
	}
	return w.vm.NewArray(out...)
}
