package jsrt

import (
	"encoding/base64"
	"encoding/binary"
	"hash/crc64"
	"math"
	"strconv"

	"github.com/dop251/goja"
)

// crcISOTable is CRC-64/ISO (the polynomial of Couchbase's crc64).
var crcISOTable = crc64.MakeTable(crc64.ISO)

// builtins are the hashing and base64 helpers of one Runtime; throw
// reports a bad argument (and must panic with a JavaScript exception).
type builtins struct {
	r     *Runtime
	vm    *goja.Runtime
	throw func(msg string)
}

// InstallBuiltins defines the global crc64 and, on ns (Eventing's
// couchbase object), crc_64_go_iso and the base64 helpers (§2.10). throw
// is how they reject a bad argument: it must panic with a JavaScript
// exception (Eventing throws an EventingError). Run it after InstallGuards.
func (r *Runtime) InstallBuiltins(ns *goja.Object, throw func(msg string)) error {
	bi := &builtins{r: r, vm: r.vm, throw: throw}
	if err := r.vm.Set("crc64", bi.crc64); err != nil {
		return err
	}
	for name, fn := range map[string]func(goja.FunctionCall) goja.Value{
		"crc_64_go_iso":            bi.crc64GoISO,
		"base64Encode":             bi.base64Encode,
		"base64Decode":             bi.base64Decode,
		"base64Float64ArrayEncode": func(c goja.FunctionCall) goja.Value { return bi.floatArrayEncode(c, 8) },
		"base64Float64ArrayDecode": func(c goja.FunctionCall) goja.Value { return bi.floatArrayDecode(c, 8) },
		"base64Float32ArrayEncode": func(c goja.FunctionCall) goja.Value { return bi.floatArrayEncode(c, 4) },
		"base64Float32ArrayDecode": func(c goja.FunctionCall) goja.Value { return bi.floatArrayDecode(c, 4) },
	} {
		if err := ns.Set(name, fn); err != nil {
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

// crc64(x): CRC-64/ISO of JSON.stringify(x), or of an ArrayBuffer's bytes.
func (bi *builtins) crc64(call goja.FunctionCall) goja.Value {
	v := call.Argument(0)
	if b, ok := RawBytes(v); ok {
		return bi.vm.ToValue(crcHex(b))
	}
	return bi.vm.ToValue(crcHex([]byte(bi.r.JSONText(v))))
}

// couchbase.crc_64_go_iso(x): like crc64 but strings are hashed raw.
func (bi *builtins) crc64GoISO(call goja.FunctionCall) goja.Value {
	bi.needOneArg(call)
	v := call.Argument(0)
	if s, ok := JSString(v); ok {
		return bi.vm.ToValue(crcHex([]byte(s)))
	}
	return bi.crc64(call)
}

func (bi *builtins) needOneArg(call goja.FunctionCall) {
	if len(call.Arguments) != 1 {
		bi.throw("Need exactly one argument")
	}
}

// couchbase.base64Encode(x): strings raw, ArrayBuffers' bytes, anything else
// JSON.stringify'd.
func (bi *builtins) base64Encode(call goja.FunctionCall) goja.Value {
	bi.needOneArg(call)
	v := call.Argument(0)
	var data []byte
	if s, ok := JSString(v); ok {
		data = []byte(s)
	} else if b, ok := RawBytes(v); ok {
		data = b
	} else {
		data = []byte(bi.r.JSONText(v))
	}
	return bi.vm.ToValue(base64.StdEncoding.EncodeToString(data))
}

func (bi *builtins) decodeBase64Arg(call goja.FunctionCall) []byte {
	bi.needOneArg(call)
	s, ok := JSString(call.Argument(0))
	if !ok {
		bi.throw("Argument should be a base64 encoded string")
	}
	data, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			bi.throw("Argument is not a valid base64 encoded string")
		}
	}
	return data
}

// couchbase.base64Decode(str): the decoded bytes as a string.
func (bi *builtins) base64Decode(call goja.FunctionCall) goja.Value {
	return bi.vm.ToValue(string(bi.decodeBase64Arg(call)))
}

// floatArrayEncode: base64 of the numbers as little-endian IEEE-754 values of
// size 4 or 8 bytes.
func (bi *builtins) floatArrayEncode(call goja.FunctionCall, size int) goja.Value {
	bi.needOneArg(call)
	obj, ok := call.Argument(0).(*goja.Object)
	if !ok || IsFunction(obj) {
		bi.throw("Argument should be an array of numbers")
	}
	n := obj.Get("length")
	if n == nil || goja.IsUndefined(n) {
		bi.throw("Argument should be an array of numbers")
	}
	length := n.ToInteger()
	if length < 0 || length > math.MaxInt32/int64(size) {
		bi.throw("Argument should be an array of numbers")
	}
	out := make([]byte, 0, int(length)*size)
	for i := int64(0); i < length; i++ {
		el := obj.Get(strconv.FormatInt(i, 10))
		var f float64
		switch x := exportNumber(el); {
		case x != nil:
			f = *x
		default:
			bi.throw("Array element at index " + strconv.FormatInt(i, 10) + " is not a number")
		}
		if size == 8 {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(f))
		} else {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(float32(f)))
		}
	}
	return bi.vm.ToValue(base64.StdEncoding.EncodeToString(out))
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
func (bi *builtins) floatArrayDecode(call goja.FunctionCall, size int) goja.Value {
	data := bi.decodeBase64Arg(call)
	if len(data)%size != 0 {
		bi.throw("Decoded length " + strconv.Itoa(len(data)) + " is not a multiple of " + strconv.Itoa(size))
	}
	out := make([]any, len(data)/size)
	for i := range out {
		if size == 8 {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[i*8:]))
		} else {
			out[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(data[i*4:])))
		}
	}
	return bi.vm.NewArray(out...)
}
