package syncgwapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"eventide/docstore"
	"eventide/query/value"
)

// checkSplit verifies splitDoc against encoding/json: the body is the
// compact object without special properties, in the original member order,
// and the specials are exactly the special members.
func checkSplit(t *testing.T, in []byte) {
	t.Helper()
	if !json.Valid(in) {
		return
	}
	generic, err := decodeNumbers(in)
	if err != nil {
		t.Fatal(err)
	}
	obj, isObj := generic.(map[string]any)
	buf := bytes.Clone(in)
	body, specials, ok := splitDoc(buf, nil)
	if ok != isObj {
		t.Fatalf("splitDoc(%q) ok = %v, want %v", in, ok, isObj)
	}
	if !ok {
		return
	}
	// The body is compact and valid.
	var compact bytes.Buffer
	if err := json.Compact(&compact, body); err != nil || !bytes.Equal(compact.Bytes(), body) {
		t.Fatalf("splitDoc(%q) body %q is not compact JSON (%v)", in, body, err)
	}
	gotAny, err := decodeNumbers(body)
	if err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	got := gotAny.(map[string]any)
	want := map[string]any{}
	wantSpecial := map[string]any{}
	for k, v := range obj {
		if _, sp := specialKey([]byte(k)); sp {
			wantSpecial[k] = v
		} else {
			want[k] = v
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("splitDoc(%q) body = %v, want %v", in, got, want)
	}
	gotSpecial := map[string]any{}
	for _, sp := range specials {
		v, err := decodeNumbers([]byte(sp.val))
		if err != nil {
			t.Fatalf("special %s value %q: %v", sp.key, sp.val, err)
		}
		gotSpecial[sp.key] = v // duplicates: the last wins, as in encoding/json
	}
	if !reflect.DeepEqual(gotSpecial, wantSpecial) {
		t.Fatalf("splitDoc(%q) specials = %v, want %v", in, gotSpecial, wantSpecial)
	}
}

// decodeNumbers decodes JSON keeping numbers as their text.
func decodeNumbers(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

var splitSeeds = []string{
	`{}`, ` { } `, `{"a":1}`, `{"_id":"x"}`, `{"_id":"x","a":1}`, `{"a":1,"_id":"x"}`,
	`{ "a" : [ 1 , 2 , { "b" : "c d" } ] , "_rev" : "1-a" , "e" : null }`,
	"{\n\t\"_exp\": \"2030-01-01T00:00:00Z\",\n\t\"x\": {\"y\": [true, false]}\n}",
	`{"s":"quote \" and \\ and \u00e9 and , : { [","_deleted":true}`,
	`{"\u005fid":"esc","_user":1,"_sync_x":{},"_syncx":2}`,
	`{"_id":"a","_id":"b"}`, `{"n":-1.5e+10,"m":0}`, `[1,2]`, `"str"`, `5`, `null`,
	`{"a":{"_id":"nested stays"}}`, `{"":1,"_":2}`,
}

func TestSplitDoc(t *testing.T) {
	for _, s := range splitSeeds {
		checkSplit(t, []byte(s))
	}
	body, sp, ok := splitDoc([]byte(`{ "_id" : "d1", "a" : 1, "_rev":"2-x" }`), nil)
	if !ok || string(body) != `{"a":1}` || len(sp) != 2 || sp[0] != (special{"_id", `"d1"`}) || sp[1] != (special{"_rev", `"2-x"`}) {
		t.Fatalf("splitDoc = %s %v %v", body, sp, ok)
	}
}

func FuzzSplitDoc(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) { checkSplit(t, in) })
}

func TestParseExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	cases := []struct {
		raw     string
		want    uint32
		wantErr string
	}{
		{`null`, 0, ""},
		{`0`, 0, ""},
		{`"0"`, 0, ""},
		{`10`, 1_700_000_010, ""},
		{`"10"`, 1_700_000_010, ""},
		{`2592000`, 1_700_000_000 + 2592000, ""},
		{`2592001`, 2592001, ""},
		{`1800000000`, 1800000000, ""},
		{`"2024-01-01T00:00:00Z"`, 1704067200, ""},
		{`"2024-01-01T01:00:00+01:00"`, 1704067200, ""},
		{`4294967295`, 4294967295, ""},
		{`4294967296`, 0, "expiry value is not within valid range: 4294967296"},
		{`-1`, 0, "expiry value is not within valid range: -1"},
		{`1.5`, 0, "*"},
		{`1e3`, 0, "*"},
		{`"3000000000"`, 0, "unable to parse expiry 3000000000 *"},
		{`"soon"`, 0, "unable to parse expiry soon *"},
		{`true`, 0, "unrecognized expiry format"},
		{`[]`, 0, "unrecognized expiry format"},
	}
	for _, tc := range cases {
		got, err := parseExpiry(tc.raw, now)
		switch {
		case tc.wantErr == "":
			if err != nil || got != tc.want {
				t.Errorf("parseExpiry(%s) = %d, %v; want %d", tc.raw, got, err, tc.want)
			}
		case err == nil:
			t.Errorf("parseExpiry(%s) = %d, want error %q", tc.raw, got, tc.wantErr)
		case tc.wantErr != "*" && !strings.HasPrefix(err.Error(), strings.TrimSuffix(tc.wantErr, "*")):
			t.Errorf("parseExpiry(%s) error %q, want %q", tc.raw, err, tc.wantErr)
		}
	}
}

func TestAppendString_MatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", `q"b\s`, "tab\there\nnl\r\x00\x1f", "é ü 日本", "\u2028\u2029", "bad \xff utf8", "<html>&"} {
		got := value.AppendQuoted(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("value.AppendQuoted(%q) = %s: invalid JSON: %v", s, got, err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("value.AppendQuoted(%q) round-trips to %q", s, back)
		}
		if !utf8.Valid(got) {
			t.Errorf("value.AppendQuoted(%q) is not UTF-8", s)
		}
	}
}

func TestAppendDoc(t *testing.T) {
	cases := []struct {
		d    docstore.Document
		exp  bool
		want string
	}{
		{docstore.Document{Key: "k", RevID: "1-a", Body: []byte(`{"x":1}`)}, false, `{"_id":"k","_rev":"1-a","x":1}`},
		{docstore.Document{Key: "k", RevID: "1-a", Body: []byte(`{}`)}, false, `{"_id":"k","_rev":"1-a"}`},
		{docstore.Document{Key: "k", RevID: "1-a", Body: []byte(" { \"x\" : 1 } ")}, false, `{"_id":"k","_rev":"1-a","x" : 1 } `},
		{docstore.Document{Key: "k", RevID: "2-b", Deleted: true}, false, `{"_id":"k","_rev":"2-b","_deleted":true}`},
		{docstore.Document{Key: "k", RevID: "1-a", Body: []byte(`{}`), Expiry: 1704067200}, true, `{"_id":"k","_rev":"1-a","_exp":"2024-01-01T00:00:00Z"}`},
		{docstore.Document{Key: `q"`, RevID: "1-a", Body: []byte(`{"y":[]}`)}, false, `{"_id":"q\"","_rev":"1-a","y":[]}`},
	}
	for _, tc := range cases {
		got := string(appendDoc(nil, &tc.d, tc.exp))
		if got != tc.want {
			t.Errorf("appendDoc(%+v) = %s, want %s", tc.d, got, tc.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("appendDoc gave invalid JSON %s", got)
		}
	}
}

func TestValidators(t *testing.T) {
	for rev, want := range map[string]bool{"1-a": true, "12-abc": true, "1-": true, "0-a": false, "-a": false, "a-b": false, "abc": false, "": false, "1a-b": false} {
		if validRevID(rev) != want {
			t.Errorf("validRevID(%q) = %v", rev, !want)
		}
	}
	for id, want := range map[string]bool{"a": true, "a/b": true, "": false, "_a": false, strings.Repeat("x", 250): true, strings.Repeat("x", 251): false, "\xff": false} {
		if validDocID(id) != want {
			t.Errorf("validDocID(%q) = %v", id, !want)
		}
	}
	for name, want := range map[string]string{
		"db": "db._default._default", "db.c": "db._default.c", "db.s.c": "db.s.c",
		"db.": "", ".db": "", "a.b.c.d": "", "a..c": "",
	} {
		ks, ok := parseKeyspace(name)
		if got := ks.String(); (ok && got != want) || (!ok && want != "") {
			t.Errorf("parseKeyspace(%q) = %s %v, want %q", name, got, ok, want)
		}
	}
}
