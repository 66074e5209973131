package handler

import (
	"errors"
	"strings"
	"testing"
)

func TestCompile_UnavailableQueryServicesRefused(t *testing.T) {
	cases := []struct {
		name      string
		code      string
		line, col int
		what      string // expected in the message
	}{
		{"analytics", "function OnUpdate(doc, meta) {\n  for (const r of couchbase.analyticsQuery('SELECT 1')) {}\n}", 2, 19,
			"couchbase.analyticsQuery is not supported: eventide has no Analytics service"},
		{"search", "function OnUpdate(doc, meta) {\n  couchbase.searchQuery('idx', couchbase.SearchQuery.match('x'));\n}", 2, 3,
			"couchbase.searchQuery is not supported: eventide has no Search (FTS) service"},
		{"bracket access", "function OnUpdate(doc, meta) {\n  var f = couchbase['analyticsQuery'];\n}", 2, 11, "couchbase.analyticsQuery"},
		{"after SQL++", "function OnUpdate(doc, meta) {\n  SELECT 1;\n  N1QL('x');\n  couchbase.searchQuery('i', {});\n}", 4, 3, "couchbase.searchQuery"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.code, Settings{}, nil, defaultBindings())
			var ce *CompileError
			if !errors.As(err, &ce) || !errors.Is(err, ErrQueryNotAvailable) {
				t.Fatalf("Compile = %v, want a *CompileError wrapping ErrQueryNotAvailable", err)
			}
			if ce.Line != c.line || ce.Column != c.col {
				t.Errorf("position = %d:%d, want %d:%d (%s)", ce.Line, ce.Column, c.line, c.col, ce.Message)
			}
			if !strings.Contains(ce.Message, c.what) {
				t.Errorf("message = %q, want it to contain %q", ce.Message, c.what)
			}
		})
	}
}

func TestCompile_SQLAccepted(t *testing.T) {
	cases := map[string]string{
		"inline select":       "var r = SELECT * FROM `travel-sample` WHERE id = $id;",
		"statement start":     "UPSERT INTO dst (KEY, VALUE) VALUES ($k, {});",
		"several lines":       "if (doc.x)\n    select name\n      from b\n      where a = 1;",
		"delete from":         "DELETE FROM b WHERE META().id = $meta.id;",
		"merge":               "MERGE INTO b USING c ON KEY c.k WHEN MATCHED THEN DELETE;",
		"with cte":            "var q = WITH a AS (SELECT 1) SELECT * FROM a;",
		"';' in strings":      "UPDATE b SET x = 'a;b' WHERE y = \"c;\";",
		"for...of header":     "for (const r of SELECT a FROM b;) { log(r); }",
		"N1QL call":           "var it = N1QL('SELECT 1', {});",
		"N1qlQuery":           "var q = new N1qlQuery('SELECT 1').execQuery();",
		"couchbase.n1qlQuery": "couchbase.n1qlQuery('SELECT 1', {});",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			code := "function OnUpdate(doc, meta) {\n  var id = 1, k = 'x';\n  " + body + "\n}"
			if _, err := Compile(code, Settings{}, nil, defaultBindings()); err != nil {
				t.Errorf("Compile = %v, want success", err)
			}
		})
	}
}

func TestCompile_QueryWordsAreNotQueries(t *testing.T) {
	cases := map[string]string{
		"identifiers":      "var selected = 1, from = 2, updateCount = 3;\n  var x = from + selected;\n  from += 1;",
		"strings":          "log(\"select from\"); log('SELECT * FROM b;'); log(`delete from b; ${1} update x;`);",
		"comments":         "// SELECT * FROM b;\n  /* DELETE FROM b WHERE x;\n  UPSERT INTO b; */",
		"properties":       "var o = {select: 1, update: function (x) { return x; }};\n  o.update (2); o.select ; o.delete;",
		"js delete":        "delete dst['k']; delete dst.k;\n  var d = {}; delete d.x;",
		"regex":            "var re = /select \\w+ from b;/;\n  var s = 'a'.replace(/update [a-z]+;/g, '');",
		"calls named so":   "var update = function (x) { return x; };\n  update (1);\n  var create = update;\n  create (2);",
		"template nesting": "var t = `${ `select ${'x'} from y;` } update z;`;",
		"division":         "var a = 4, b = 2;\n  var c = a / b; var d = a / b / 1;",
		"own N1QL":         "N1QL('mine');",
		"declared names":   "var drop = 1; let merge = 2;",
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			code := "function OnUpdate(doc, meta) {\n  " + body + "\n}\nfunction N1QL(q) { return q; }"
			if _, err := Compile(code, Settings{}, nil, defaultBindings()); err != nil {
				t.Errorf("Compile = %v, want success", err)
			}
		})
	}
	// A handler's own N1qlQuery class is its own, too.
	own := "function OnUpdate(doc, meta) { var q = new N1qlQuery('x'); }\nfunction N1qlQuery(s) { this.s = s; }"
	if _, err := Compile(own, Settings{}, nil, nil); err != nil {
		t.Errorf("own N1qlQuery: %v", err)
	}
}

func TestCompile_SyntaxErrorsAroundSQL(t *testing.T) {
	// Errors before and after a statement keep their lines and columns.
	cases := []struct {
		code      string
		line, col int
	}{
		{"function OnUpdate(doc, meta) {\n  var = 1;\n  SELECT * FROM b;\n}", 2, 7},
		{"function OnUpdate(doc, meta) {\n  SELECT *\n    FROM b\n    WHERE x = $y;\n  var = 1;\n}", 5, 7},
		{"function OnUpdate(doc, meta) {\n  log('x') log('y');\n}", 2, 12},
	}
	for _, c := range cases {
		_, err := Compile(c.code, Settings{}, nil, nil)
		var ce *CompileError
		if !errors.As(err, &ce) || ce.Line != c.line || ce.Column != c.col || !strings.HasPrefix(ce.Message, "SyntaxError") {
			t.Errorf("Compile(%q) = %v, want a syntax error at %d:%d", c.code, err, c.line, c.col)
		}
	}
}

func TestFindInlineQueries(t *testing.T) {
	src := "x = 1;\nSELECT a FROM b;\nlog('UPSERT INTO c;');\nobj.select = 2;\n  insert into c values (1);\n"
	qs := findInlineQueries(src)
	var got []string
	for _, q := range qs {
		got = append(got, q.text)
	}
	want := []string{"SELECT a FROM b;", "insert into c values (1);"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("found %q, want %q", got, want)
	}
	if qs[0].offset != strings.Index(src, "SELECT") {
		t.Errorf("offset = %d", qs[0].offset)
	}
	// Unterminated things do not hang or panic.
	for _, s := range []string{"`abc ${", "'abc", "/* x", "/abc", "SELECT a", "a[`", "`${`${}`}`"} {
		_ = findInlineQueries(s)
	}
}
