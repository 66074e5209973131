package handler

import (
	"errors"
	"testing"

	"eventide/docstore"
)

// FuzzCompile compiles arbitrary source: Compile returns a program or an
// error, never both, never neither, and never panics (it runs none of the
// code, so it cannot hang on it either).
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"function OnUpdate(doc, meta) { log(doc); }",
		"function OnUpdate(doc, meta) {",
		"function OnDelete(meta, options) {} function OnDelete(meta) {}",
		"var x = 1; function OnUpdate(d, m) { while (true) {} }",
		"function OnUpdate(doc, meta) { SELECT * FROM b; }",
		"function OnUpdate(doc, meta) { var r = N1QL('SELECT 1'); }",
		"function OnDeploy(action) {} function OnUpdate(d, m) { createTimer(cb, new Date(), 'r', {}); } function cb(c) {}",
		"/* unterminated", "`${", "function OnUpdate(doc, meta) { return src[meta.id]; }", "class A { #x; }",
		"function OnUpdate(d, m) { let a = async () => { await 1 }; }", "\x00\xff", "function OnUpdate(){}\n)",
	} {
		f.Add(s)
	}
	bindings := []Binding{{Alias: "src", Keyspace: docstore.Keyspace{Bucket: "b"}}}
	f.Fuzz(func(t *testing.T, code string) {
		p, err := Compile(code, Settings{}, []Constant{{Alias: "k", Literal: "1"}}, bindings)
		if (p == nil) == (err == nil) {
			t.Fatalf("Compile(%q) = %v, %v: want exactly one", code, p, err)
		}
		var ce *CompileError
		if err != nil && errors.As(err, &ce) && (ce.Line < 0 || ce.Column < 0) {
			t.Fatalf("Compile(%q): error at line %d column %d", code, ce.Line, ce.Column)
		}
	})
}

// FuzzTranspile transpiles arbitrary source: it never panics, keeps the
// number of lines, and leaves source without inline statements as it is.
func FuzzTranspile(f *testing.F) {
	for _, s := range []string{
		"var it = SELECT * FROM b WHERE id = $id;",
		"for (const r of SELECT a /* x\n y */ FROM b;) {}",
		"UPDATE b SET s = 'a;b', `$q` = $1 WHERE t = \"c\\\"\";",
		"DELETE /* c */ FROM `b-1`.s.c WHERE x = $x;", "log('SELECT 1;');", "MERGE INTO b USING c ON KEY k WHEN MATCHED THEN DELETE;",
		"SELECT '\\", "WITH a AS (SELECT 1) SELECT * FROM a;", "select\n$",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		got := transpile(code)
		if lineBreaks(got) != lineBreaks(code) {
			t.Fatalf("transpile(%q) = %q: line count changed", code, got)
		}
		if len(findInlineQueries(code)) == 0 && got != code {
			t.Fatalf("transpile(%q) = %q without statements", code, got)
		}
		_ = DMLTargets(code)
	})
}
