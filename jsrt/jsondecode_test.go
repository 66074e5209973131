package jsrt

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// TestJSONDecoder_MatchesJSONParse checks the fast decoder against goja's
// JSON.parse on documents that exercise the edge cases.
func TestJSONDecoder_MatchesJSONParse(t *testing.T) {
	vm := goja.New()
	d := jsonDecoder{vm: vm, proto: vm.Get("Object").ToObject(vm).Get("prototype").ToObject(vm)}
	check, err := vm.RunString(`(function (ours, text) {
		const theirs = JSON.parse(text);
		const same = JSON.stringify(ours) === JSON.stringify(theirs);
		const proto = ours === null || typeof ours !== 'object' || Object.getPrototypeOf(ours) === Object.getPrototypeOf(theirs);
		return same && proto;
	})`)
	if err != nil {
		t.Fatal(err)
	}
	checkFn, _ := goja.AssertFunction(check)
	docs := []string{
		`{}`, `[]`, `0`, `-1`, `1.5e3`, `123456789012345678901234567890`, `9007199254740993`, `-0.0`, `1E-7`,
		`"plain"`, `"esc \" \\ \/ \b \f \n \r \t \u00e9 \u20ac"`, `"\ud83d\ude00 pair"`, `"héllo wörld ✓"`,
		` { "a" : [ 1 , 2 , { "b" : null } ] , "c" : true , "d" : false } `,
		`{"dup": 1, "other": 2, "dup": 3}`,
		`{"2": "b", "1": "a", "x": "c"}`,
		`{"__proto__": {"polluted": true}, "constructor": 1, "toString": 2}`,
		`[[[[[["deep"]]]]]]`,
	}
	for _, doc := range docs {
		v, err := d.decode([]byte(doc))
		if err != nil {
			t.Errorf("decode(%s): %v", doc, err)
			continue
		}
		ok, err := checkFn(goja.Undefined(), v, vm.ToValue(doc))
		if err != nil || !ok.ToBoolean() {
			t.Errorf("decode(%s) differs from JSON.parse (err %v)", doc, err)
		}
	}
	// -0 stays -0; __proto__ is an own property, not the prototype.
	v, _ := d.decode([]byte(`{"z": -0, "__proto__": {"polluted": true}}`))
	probe, _ := vm.RunString(`(function (o) { return Object.is(o.z, -0) && o.hasOwnProperty('__proto__') && o.polluted === undefined && ({}).polluted === undefined; })`)
	probeFn, _ := goja.AssertFunction(probe)
	if ok, err := probeFn(goja.Undefined(), v); err != nil || !ok.ToBoolean() {
		t.Errorf("-0 / __proto__ handling wrong (err %v)", err)
	}
	// Invalid UTF-8 and lone surrogates become U+FFFD, as goja's JSON.parse does.
	v, _ = d.decode([]byte("\"a\xffb\""))
	if v.String() != "a\uFFFDb" {
		t.Errorf("invalid UTF-8 = %q", v.String())
	}
	v, _ = d.decode([]byte(`"x\ud800y"`))
	if v.String() != "x\uFFFDy" {
		t.Errorf("lone surrogate = %q", v.String())
	}
}

func TestJSONDecoder_Rejects(t *testing.T) {
	vm := goja.New()
	d := jsonDecoder{vm: vm, proto: vm.Get("Object").ToObject(vm).Get("prototype").ToObject(vm)}
	bad := []string{
		``, ` `, `{`, `[1,]`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `'x'`, `01`, `1.`, `.5`, `-`, `1e`, `+1`,
		`tru`, `nul`, `"unterminated`, "\"ctl\x01\"", `"\x"`, `"\u12"`, `1 2`, `{"a":1}}`, `NaN`,
		strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1),
	}
	for _, doc := range bad {
		if v, err := d.decode([]byte(doc)); err == nil {
			t.Errorf("decode(%.40q) = %v, want an error", doc, v)
		}
	}
	// Nesting at the limit is fine.
	ok := strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth)
	if _, err := d.decode([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxJSONDepth, err)
	}
}
