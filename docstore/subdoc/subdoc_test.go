package subdoc

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	cases := []struct {
		path string
		want string // elements rendered as key or [n]; "!" for invalid
	}{
		{"", ""},
		{"a", "a"},
		{"a.b[2].c", "a b [2] c"},
		{"[0][-1]", "[0] [-1]"},
		{"`a.b`.c", "a.b c"},
		{"`x``y`", "x`y"},
		{"a[1][2]", "a [1] [2]"},
		{"a..b", "!"},
		{"a.", "!"},
		{".a", "!"},
		{"a[", "!"},
		{"a[x]", "!"},
		{"a[-2]", "!"},
		{"a[+1]", "!"},
		{"`open", "!"},
		{"a]b", "!"},
		{"``", "!"},
		{strings.Repeat("a.", 32) + "a", "!"},
		{strings.Repeat("x", 1025), "!"},
	}
	for _, c := range cases {
		elems, ok := ParsePath(c.path)
		var got string
		if !ok {
			got = "!"
		} else {
			parts := make([]string, len(elems))
			for i, e := range elems {
				if e.IsIndex {
					parts[i] = fmt.Sprintf("[%d]", e.Index)
				} else {
					parts[i] = e.Key
				}
			}
			got = strings.Join(parts, " ")
		}
		if got != c.want {
			t.Errorf("ParsePath(%.40q) = %q, want %q", c.path, got, c.want)
		}
	}
}

func TestMutate_Edges(t *testing.T) {
	cases := []struct {
		name, doc   string
		kind        Op
		path, value string
		create      bool
		want        string // resulting document, or the failure
	}{
		{"append to root array", `[1]`, ArrayAppend, "", `2`, false, `[1,2]`},
		{"prepend to root object", `{}`, ArrayPrepend, "", `2`, false, "mismatch"},
		{"insert at end", `{"a":[1]}`, ArrayInsert, "a[1]", `2`, false, `{"a":[1,2]}`},
		{"insert at -1", `{"a":[1]}`, ArrayInsert, "a[-1]", `2`, false, "invalid"},
		{"insert into missing array", `{}`, ArrayInsert, "a[0]", `2`, false, "not found"},
		{"unique in mixed array", `{"a":[[1]]}`, ArrayAddUnique, "a", `2`, false, "mismatch"},
		{"unique number by value", `{"a":[1.0]}`, ArrayAddUnique, "a", `1`, false, "exists"},
		{"unique string", `{"a":["1"]}`, ArrayAddUnique, "a", `1`, false, `{"a":["1",1]}`},
		{"create through array index", `{"a":[]}`, Upsert, "a[0].b", `1`, true, "not found"},
		{"create path", `{}`, Insert, "a.b.c", `1`, true, `{"a":{"b":{"c":1}}}`},
		{"remove array element", `{"a":[1,2,3]}`, Remove, "a[1]", ``, false, `{"a":[1,3]}`},
		{"remove last", `{"a":[1,2,3]}`, Remove, "a[-1]", ``, false, `{"a":[1,2]}`},
		{"remove from empty", `{"a":[]}`, Remove, "a[-1]", ``, false, "not found"},
		{"replace whole document", `{}`, Replace, "", `1`, false, "invalid"},
		{"index into object", `{"a":{}}`, Replace, "a[0]", `1`, false, "mismatch"},
		{"key into array", `{"a":[]}`, Upsert, "a.b", `1`, false, "mismatch"},
		{"unicode and escapes kept", `{"é":"<\u00e9>"}`, Upsert, "n", `"<&>"`, false, `{"é":"<é>","n":"<&>"}`},
	}
	names := map[Status]string{PathNotFound: "not found", PathExists: "exists", PathMismatch: "mismatch", PathInvalid: "invalid"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, err := Parse([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			var value any
			if c.value != "" {
				if value, err = Parse([]byte(c.value)); err != nil {
					t.Fatal(err)
				}
			}
			elems, ok := ParsePath(c.path)
			if !ok {
				t.Fatalf("bad path %q", c.path)
			}
			got := names[Mutate(&root, c.kind, elems, value, c.create)]
			if got == "" {
				got = string(Encode(root))
			}
			if got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestParse_Limits(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1)
	if _, err := Parse([]byte(deep)); !errors.Is(err, ErrTooDeep) {
		t.Errorf("too deep: err = %v", err)
	}
	ok := strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("at the limit: err = %v", err)
	}
	for _, bad := range []string{``, `{`, `{"a":1} 2`, `[1,]`, `nul`} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted invalid JSON", bad)
		}
	}
}

// formatPath writes a parsed path back in the syntax
// ParsePath reads, quoting keys with backticks where needed.
func formatPath(path []PathElem) string {
	var b strings.Builder
	for i, e := range path {
		if e.IsIndex {
			b.WriteString("[" + strconv.Itoa(e.Index) + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		if strings.ContainsAny(e.Key, ".[]`") {
			b.WriteString("`" + strings.ReplaceAll(e.Key, "`", "``") + "`")
		} else {
			b.WriteString(e.Key)
		}
	}
	return b.String()
}

// FuzzSubdocPath parses arbitrary sub-document paths: no panic, and a
// parsed path written back parses to the same elements.
func FuzzSubdocPath(f *testing.F) {
	for _, s := range []string{"", "a", "a.b[2].c", "`a.b`.c", "[0]", "a[-1]", "a[+1]", "``", "`a``b`", "a..b", "a[", "[1][2]", "a.`", "a]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		path, ok := ParsePath(p)
		if !ok {
			return
		}
		again, ok := ParsePath(formatPath(path))
		if !ok || !reflect.DeepEqual(again, path) {
			t.Fatalf("path %q parsed as %+v, written back as %q, reparsed as %+v (%v)", p, path, formatPath(path), again, ok)
		}
	})
}

func TestCounter(t *testing.T) {
	cases := []struct {
		name, body string
		delta      int64
		want       string // the new body, or "!" for not a number
		n          int64
	}{
		{"bumps count in place", `{"a":1,"count":41,"b":"<&>"}`, 1, `{"a":1,"count":42,"b":"<&>"}`, 42},
		{"adds a missing count", `{"a":1}`, -1, `{"a":1,"count":-1}`, -1},
		{"empty object", `{}`, 5, `{"count":5}`, 5},
		{"count not an integer", `{"count":1.5}`, 1, "!", 0},
		{"not an object", `[1]`, 1, "!", 0},
		{"overflow", `{"count":9223372036854775807}`, 1, "!", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, n, ok := Counter([]byte(c.body), c.delta)
			got := string(body)
			if !ok {
				got = "!"
			}
			if got != c.want || n != c.n {
				t.Errorf("Counter(%s, %d) = %s, %d; want %s, %d", c.body, c.delta, got, n, c.want, c.n)
			}
		})
	}
}
