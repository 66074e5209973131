package handler

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"testing"
)

func TestBuiltins_CRC64GoISOVectors(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var f = couchbase.crc_64_go_iso, big;
  try { f(BigInt(1)); big = 'no exception'; } catch (e) { big = e instanceof TypeError; }
  dst['result'] = {
    hello: f("hello"), one: f(1), arr: f([1,2,3,4]), obj: f({"my_key":"my_value"}), nul: f(null),
    fals: f(false), undef: f(undefined), sym: f(Symbol('s')), date: f(new Date("2024-05-10")), big: big,
    buf: f(new Uint8Array([104, 101, 108, 108, 111]).buffer),
  };
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"hello": "3c3eeee2d8100000", "one": "4320000000000000", "arr": "3b8002901291a293",
		"obj": "756fe1c0128e6be0", "nul": "3eeef9ddb0000000", "fals": "32cc7ee410300000",
		"undef": "fcd0dd899002d36d", "sym": "fcd0dd899002d36d", "date": "508adbb2e62fe363", "big": true,
		"buf": "3c3eeee2d8100000",
	})
}

func TestBuiltins_CRC64Global(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['result'] = {
    str: crc64("hello"), quoted: crc64("hello") === couchbase.crc_64_go_iso('"hello"'),
    obj: crc64({"my_key":"my_value"}), buf: crc64(new Uint8Array([104, 101, 108, 108, 111]).buffer),
    len: crc64(123456).length,
  };
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"quoted": true, "obj": "756fe1c0128e6be0", "buf": "3c3eeee2d8100000", "len": 16,
	})
	if got := h.result("result")["str"]; got == "3c3eeee2d8100000" {
		t.Errorf("crc64 hashed the raw string; it must hash JSON.stringify(x)")
	}
}

func TestBuiltins_Base64(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var cb = couchbase;
  dst['result'] = {
    str: cb.base64Encode("héllo"), obj: cb.base64Encode({a: 1}), num: cb.base64Encode(5),
    buf: cb.base64Encode(new Uint8Array([0, 255]).buffer),
    round: cb.base64Decode(cb.base64Encode("héllo wörld")),
    f64: cb.base64Float64ArrayEncode([1.5, -2, 1e300]),
    f64back: cb.base64Float64ArrayDecode(cb.base64Float64ArrayEncode([1.5, -2, 1e300])).join(','),
    f32: cb.base64Float32ArrayEncode([0.5, 3]),
    f32back: cb.base64Float32ArrayDecode(cb.base64Float32ArrayEncode([0.5, 3, 0.1])).join(','),
    typed: cb.base64Float64ArrayEncode(new Float64Array([1.5, -2, 1e300])) === cb.base64Float64ArrayEncode([1.5, -2, 1e300]),
    empty: cb.base64Float32ArrayDecode(cb.base64Float32ArrayEncode([])).length,
  };
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	var f64 []byte
	for _, f := range []float64{1.5, -2, 1e300} {
		f64 = binary.LittleEndian.AppendUint64(f64, math.Float64bits(f))
	}
	var f32 []byte
	for _, f := range []float32{0.5, 3} {
		f32 = binary.LittleEndian.AppendUint32(f32, math.Float32bits(f))
	}
	wantFields(t, h.result("result"), map[string]any{
		"str": base64.StdEncoding.EncodeToString([]byte("héllo")),
		"obj": base64.StdEncoding.EncodeToString([]byte(`{"a":1}`)),
		"num": base64.StdEncoding.EncodeToString([]byte("5")), "buf": "AP8=",
		"round": "héllo wörld", "f64": base64.StdEncoding.EncodeToString(f64), "f64back": "1.5,-2,1e+300",
		"f32": base64.StdEncoding.EncodeToString(f32), "f32back": "0.5,3,0.10000000149011612",
		"typed": true, "empty": 0,
	})
}

func TestBuiltins_BadArguments(t *testing.T) {
	cases := []struct{ name, call, want string }{
		{"no args", `couchbase.base64Encode()`, "EventingError: Need exactly one argument"},
		{"two args", `couchbase.base64Decode('a', 'b')`, "EventingError: Need exactly one argument"},
		{"crc arity", `couchbase.crc_64_go_iso()`, "EventingError: Need exactly one argument"},
		{"float arity", `couchbase.base64Float64ArrayEncode()`, "EventingError: Need exactly one argument"},
		{"float32 decode arity", `couchbase.base64Float32ArrayDecode('', '')`, "EventingError: Need exactly one argument"},
		{"not base64", `couchbase.base64Decode('!!!')`, "EventingError: Argument is not a valid base64 encoded string"},
		{"decode non-string", `couchbase.base64Decode(5)`, "EventingError: Argument should be a base64 encoded string"},
		{"not an array", `couchbase.base64Float64ArrayEncode(5)`, "EventingError: Argument should be an array of numbers"},
		{"not numbers", `couchbase.base64Float32ArrayEncode([1, 'x'])`, "EventingError: Array element at index 1 is not a number"},
		{"bad length", `couchbase.base64Float64ArrayDecode('AAAA')`, "EventingError: Decoded length 3 is not a multiple of 8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, `function OnUpdate(doc, meta) {
  try { `+tc.call+`; dst['result'] = {err: 'none'}; }
  catch (e) { dst['result'] = {err: String(e), ev: e instanceof EventingError}; }
}`, harnessOpts{})
			h.mustHandle(mutation("k", `{}`))
			wantFields(t, h.result("result"), map[string]any{"err": tc.want, "ev": true})
		})
	}
}

func TestBuiltins_CouchbaseNamespaceShared(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {
  dst['result'] = {get: typeof couchbase.get, b64: typeof couchbase.base64Encode, crc: typeof crc64,
    curl: typeof curl, curlErr: new CurlError('x') instanceof Error, n1qlErr: new N1QLError('x') instanceof Error};
}`, harnessOpts{})
	h.mustHandle(mutation("k", `{}`))
	wantFields(t, h.result("result"), map[string]any{
		"get": "function", "b64": "function", "crc": "function", "curl": "function", "curlErr": true, "n1qlErr": true,
	})
}
