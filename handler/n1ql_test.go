package handler

import (
	"errors"
	"strings"
	"testing"
)

func TestCompile_QueriesRefused(t *testing.T) {
	cases := []struct {
		name      string
		code      string
		line, col int
		what      string // expected in the message
	}{
		{"inline select", "function OnUpdate(doc, meta) {\n  var r = SELECT * FROM `travel-sample` WHERE id = $id;\n}",
			2, 11, `SQL++ (N1QL) statement "SELECT * FROM ` + "`travel-sample`" + ` WHERE id = $id;"`},
		{"statement start", "function OnUpdate(doc, meta) {\n    UPSERT INTO dst (KEY, VALUE) VALUES ($k, {});\n}",
			2, 5, `"UPSERT INTO dst (KEY, VALUE) VALUES ($k, {});"`},
		{"lower case, several lines", "function OnUpdate(doc, meta) {\n  if (doc.x)\n    select name\n      from b\n      where a = 1;\n}",
			3, 5, `"select name from b where a = 1;"`},
		{"delete from", "function OnDelete(meta) {\n  DELETE FROM b WHERE META().id = $meta;\n}", 2, 3, `"DELETE FROM b`},
		{"merge", "function OnUpdate(doc, meta) {\n  MERGE INTO b USING c ON KEY c.k WHEN MATCHED THEN DELETE;\n}", 2, 3, `"MERGE INTO`},
		{"with cte", "function OnUpdate(doc, meta) {\n  var q = WITH a AS (SELECT 1) SELECT * FROM a;\n}", 2, 11, `"WITH a AS`},
		{"string containing ';' in the query", "function OnUpdate(doc, meta) {\n  UPDATE b SET x = 'a;b' WHERE y = \"c;\";\n}",
			2, 3, `"UPDATE b SET x = 'a;b' WHERE y = \"c;\";"`},
		{"after a for...of header", "function OnUpdate(doc, meta) {\n  for (const r of SELECT a FROM b;) {}\n}", 2, 19, `"SELECT a FROM b;"`},
		{"N1QL call", "function OnUpdate(doc, meta) {\n  var it = N1QL('SELECT 1', {});\n}", 2, 12, "N1QL() is not supported"},
		{"N1qlQuery", "function OnUpdate(doc, meta) {\n  var q = new N1qlQuery('SELECT 1').execQuery();\n}", 2, 11, "new N1qlQuery() is not supported"},
		{"couchbase.n1qlQuery", "function OnUpdate(doc, meta) {\n\n  couchbase.n1qlQuery('SELECT 1', {});\n}", 3, 3, "couchbase.n1qlQuery is not supported"},
		{"analytics", "function OnUpdate(doc, meta) {\n  for (const r of couchbase.analyticsQuery('SELECT 1')) {}\n}", 2, 19, "couchbase.analyticsQuery is not supported"},
		{"search", "function OnUpdate(doc, meta) {\n  couchbase.searchQuery('idx', couchbase.SearchQuery.match('x'));\n}", 2, 3, "couchbase.searchQuery is not supported"},
		{"bracket access", "function OnUpdate(doc, meta) {\n  var f = couchbase['n1qlQuery'];\n}", 2, 11, "couchbase.n1qlQuery is not supported"},
		{"first of two", "function OnUpdate(doc, meta) {\n  couchbase.searchQuery('i', {});\n  N1QL('x');\n}", 2, 3, "couchbase.searchQuery"},
		{"in a helper", "function OnUpdate(doc, meta) { helper(); }\nfunction helper() {\n  return N1QL('SELECT 1');\n}", 3, 10, "N1QL()"},
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
			if !strings.Contains(ce.Message, c.what) || !strings.HasSuffix(ce.Message, "the query service is not available yet") {
				t.Errorf("message = %q, want it to contain %q and say the query service is not available", ce.Message, c.what)
			}
			if msg := ce.Error(); !strings.Contains(msg, "line ") || !strings.Contains(msg, ce.Message) {
				t.Errorf("Error() = %q", msg)
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

func TestCompile_QueryAndSyntaxErrors(t *testing.T) {
	// A syntax error before the first statement is the user's to fix first.
	code := "function OnUpdate(doc, meta) {\n  var = 1;\n  SELECT * FROM b;\n}"
	_, err := Compile(code, Settings{}, nil, nil)
	var ce *CompileError
	if !errors.As(err, &ce) || errors.Is(err, ErrQueryNotAvailable) || ce.Line != 2 || !strings.HasPrefix(ce.Message, "SyntaxError") {
		t.Errorf("Compile = %v, want the syntax error at line 2", err)
	}
	// One after it: the statement is reported.
	code = "function OnUpdate(doc, meta) {\n  SELECT * FROM b;\n  var = 1;\n}"
	if _, err := Compile(code, Settings{}, nil, nil); !errors.Is(err, ErrQueryNotAvailable) {
		t.Errorf("Compile = %v, want the query error", err)
	}
	// Plain syntax errors stay syntax errors.
	_, err = Compile("function OnUpdate(doc, meta) {\n  log('x') log('y');\n}", Settings{}, nil, nil)
	if !errors.As(err, &ce) || errors.Is(err, ErrQueryNotAvailable) || !strings.HasPrefix(ce.Message, "SyntaxError") {
		t.Errorf("Compile = %v, want a syntax error", err)
	}
}

func TestCompile_QueryInConstantBinding(t *testing.T) {
	_, err := Compile("function OnUpdate(doc, meta) {}", Settings{}, []Constant{{"q", "N1QL('SELECT 1')"}}, nil)
	var ce *CompileError
	if !errors.As(err, &ce) || !errors.Is(err, ErrQueryNotAvailable) || ce.Line != 0 ||
		!strings.HasPrefix(ce.Message, "constant binding q: N1QL()") {
		t.Errorf("Compile = %v, want the query error located in the constant", err)
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
