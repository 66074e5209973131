package syncgwapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestDedupeKeys(t *testing.T) {
	many := func(dup bool) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range 40 {
			b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i) + ",")
		}
		if dup {
			b.WriteString(`"k7":"last",`)
		}
		b.WriteString(`"z":0}`)
		return b.String()
	}
	cases := []struct{ in, want string }{
		{`{}`, `{}`},
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`},
		{`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
		{`{"a":{"x":1,"x":[{"y":1,"y":2}]},"b":[{"c":1,"c":null}]}`, `{"a":{"x":[{"y":2}]},"b":[{"c":null}]}`},
		{`{"a":1,"\u0061":2}`, `{"a":2}`},
		{`{"a":{"a":1},"b":{"a":2}}`, `{"a":{"a":1},"b":{"a":2}}`}, // same key in different objects
		{`{"s":"{\"a\":1,\"a\":2}"}`, `{"s":"{\"a\":1,\"a\":2}"}`}, // inside a string: not a key
		{many(false), many(false)},
		{many(true), strings.Replace(many(false), `"k7":7`, `"k7":"last"`, 1)},
	}
	for _, tc := range cases {
		if got := string(dedupeKeys([]byte(tc.in))); got != tc.want {
			t.Errorf("dedupeKeys(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzDedupeKeys checks dedupeKeys against encoding/json, which also keeps
// the last value of a repeated key: the result decodes to the same value,
// has no repeated key, and is the input itself when the input had none.
func FuzzDedupeKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":{"b":[{"c":1,"c":2}]},"a":0}`, `{"\u0061":1,"a":2}`, `[{"x":1},{"x":2,"x":3}]`, `{"a":"\"a\":"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var compact bytes.Buffer
		if json.Compact(&compact, in) != nil {
			return
		}
		b := compact.Bytes()
		out := dedupeKeys(bytes.Clone(b))
		want, err1 := decodeNumbers(b)
		got, err2 := decodeNumbers(out)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("dedupeKeys(%s) = %s: decodes to %v (%v), want %v (%v)", b, out, got, err2, want, err1)
		}
		if hasDuplicateKeys(out) {
			t.Fatalf("dedupeKeys(%s) = %s still repeats a key", b, out)
		}
		if !hasDuplicateKeys(b) && !bytes.Equal(out, b) {
			t.Fatalf("dedupeKeys(%s) = %s changed a body without duplicates", b, out)
		}
	})
}

// TestDuplicateKeys_LastWins writes documents with repeated keys through
// PUT, POST and _bulk_docs: the stored body is the normalized one.
func TestDuplicateKeys_LastWins(t *testing.T) {
	e := newEnv(t)
	e.put("/db/d1", `{"a":1, "b":{"x":1,"x":2}, "a":3}`)
	if r := e.do("POST", "/db/", `{"_id":"first","_id":"d2","v":1,"v":2}`); r.Code != 200 {
		t.Fatalf("POST: %d %s", r.Code, r.Body)
	}
	if r := e.do("POST", "/db/_bulk_docs", `{"docs":[{"_id":"d3","n":[{"k":1,"k":2}],"n":0,"_exp":"bad","_exp":0}]}`); r.Code != 201 || strings.Contains(r.Body, "error") {
		t.Fatalf("_bulk_docs: %d %s", r.Code, r.Body)
	}
	for id, want := range map[string]string{"d1": `{"a":3,"b":{"x":2}}`, "d2": `{"v":2}`, "d3": `{"n":0}`} {
		d, err := e.store.Get(ksDefault, id)
		if err != nil || string(d.Body) != want {
			t.Errorf("%s stored as %v (%v), want %s", id, d, err, want)
		}
	}
}
