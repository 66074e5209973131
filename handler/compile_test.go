package handler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eventide/docstore"
)

func compileErr(t *testing.T, code string, s Settings, constants []Constant, bindings []Binding) *CompileError {
	t.Helper()
	_, err := Compile(code, s, constants, bindings)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("Compile error = %v (%T), want *CompileError", err, err)
	}
	return ce
}

func TestCompile_SyntaxErrorPositionIsInUserCode(t *testing.T) {
	code := "function OnUpdate(doc, meta) {\n  log('a');\n  var x = ;\n}\n"
	cases := []struct {
		name      string
		settings  Settings
		constants []Constant
	}{
		{"defaults", Settings{}, nil},
		{"constants", Settings{}, []Constant{{"c1", "1"}, {"c2", "{\n a: 1\n}"}}},
		{"extra headers", Settings{HandlerHeaders: []string{"'use strict';", "var h1 = 1;", "var h2 =\n 2;"}}, nil},
		{"sloppy", Settings{HandlerHeaders: []string{}}, nil},
		{"footers", Settings{HandlerFooters: []string{"function Footer() {}"}}, []Constant{{"c1", "1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ce := compileErr(t, code, c.settings, c.constants, nil)
			if ce.Line != 3 || ce.Column != 11 {
				t.Errorf("position = %d:%d, want 3:11 (%v)", ce.Line, ce.Column, ce)
			}
			if !strings.HasPrefix(ce.Message, "SyntaxError: ") {
				t.Errorf("message = %q, want a SyntaxError", ce.Message)
			}
			if msg := ce.Error(); !strings.Contains(msg, "line 3") || !strings.Contains(msg, ce.Message) {
				t.Errorf("Error() = %q, want line and message", msg)
			}
		})
	}
}

func TestCompile_StrictModeByDefault(t *testing.T) {
	code := "function OnUpdate(doc, meta) {\n  var x = 010;\n}"
	ce := compileErr(t, code, Settings{}, nil, nil)
	if ce.Line != 2 || !strings.Contains(ce.Message, "Octal literals are not allowed in strict mode") {
		t.Errorf("got %v, want octal literal error at line 2", ce)
	}
	// Strict-mode errors found by the compiler (not the parser) are mapped too.
	ce = compileErr(t, "function OnUpdate(doc, meta) {\n\n  with (doc) {}\n}", Settings{}, []Constant{{"k", "1"}}, nil)
	if ce.Line != 3 {
		t.Errorf("with statement: got %v, want line 3", ce)
	}
	// Without the strict header the same code compiles.
	if _, err := Compile(code, Settings{HandlerHeaders: []string{}}, nil, nil); err != nil {
		t.Errorf("sloppy mode: %v", err)
	}
}

func TestCompile_GlobalScopeOnlyFunctions(t *testing.T) {
	cases := []struct {
		name, stmt, found string
	}{
		{"var", "var x = 1;", "var x = 1"},
		{"let", "let y = [1, 2];", "let y = [1, 2]"},
		{"assignment", "counter = 0;", "counter = 0"},
		{"if", "if (true) { log(1); }", "if (true)"},
		{"iife", "(function () { log(1); })();", "(function ()"},
		{"class", "class A { }", "class A"},
		{"async function", "async function helper() { }", "async function helper()"},
		{"call", "log('x')", "log('x')"},
		{"multi-line", "var a =\n\t5;", "var a =  5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := "function OnUpdate(doc, meta) {\n}\n\n" + c.stmt + "\n"
			ce := compileErr(t, code, Settings{}, []Constant{{"k", "1"}}, nil)
			want := "Only functions allowed in global space, but found: " + c.found
			if ce.Message != want || ce.Line != 4 || ce.Column != 1 {
				t.Errorf("got %d:%d %q, want 4:1 %q", ce.Line, ce.Column, ce.Message, want)
			}
		})
	}
	// Functions, generators and stray semicolons are fine.
	ok := "function OnUpdate(doc, meta) { helper(); };\nfunction helper() {}\nfunction* gen() { yield 1; }\n;"
	if _, err := Compile(ok, Settings{}, nil, nil); err != nil {
		t.Errorf("valid code: %v", err)
	}
}

func TestCompile_EntryPoints(t *testing.T) {
	ce := compileErr(t, "function helper() {}", Settings{}, nil, nil)
	if ce.Message != "Handler code is missing OnUpdate() and OnDelete() functions. At least one of them is needed to deploy the handler" || ce.Line != 0 {
		t.Errorf("no entry point: got %v", ce)
	}
	ce = compileErr(t, "function OnUpdate(d, m) {}\n\nfunction OnUpdate(d, m) {}", Settings{}, nil, nil)
	if ce.Message != "handler cannot have multiple OnUpdate() functions" || ce.Line != 3 {
		t.Errorf("two OnUpdate: got %v", ce)
	}
	ce = compileErr(t, "function OnDelete(m) {}\nfunction OnDelete(m) {}", Settings{}, nil, nil)
	if ce.Message != "handler code cannot have multiple OnDelete() functions" || ce.Line != 2 {
		t.Errorf("two OnDelete: got %v", ce)
	}
	ce = compileErr(t, "function OnDelete(m) {}\nfunction OnDeploy(a) {}\nfunction OnDeploy(a) {}", Settings{}, nil, nil)
	if ce.Message != "handler code cannot have multiple OnDeploy() functions" || ce.Line != 3 {
		t.Errorf("two OnDeploy: got %v", ce)
	}

	p, err := Compile("function OnDelete(meta, options) {}", Settings{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasOnUpdate() || !p.HasOnDelete() || p.HasOnDeploy() {
		t.Errorf("entry points = %v %v %v, want only OnDelete", p.HasOnUpdate(), p.HasOnDelete(), p.HasOnDeploy())
	}
}

func TestCompile_Bindings(t *testing.T) {
	good := []Binding{{Alias: "dst", Keyspace: docstore.Keyspace{Bucket: "b"}}}
	p, err := Compile("function OnUpdate(d, m) {}", Settings{}, nil, good)
	if err != nil {
		t.Fatal(err)
	}
	b := p.Bindings()[0]
	if b.Access != AccessReadWrite || b.Keyspace.Scope != docstore.DefaultScope || b.Keyspace.Collection != docstore.DefaultCollection {
		t.Errorf("defaults not filled: %+v", b)
	}

	bad := []struct {
		name      string
		bindings  []Binding
		constants []Constant
		want      string
	}{
		{"bad alias", []Binding{{Alias: "1x", Keyspace: docstore.Keyspace{Bucket: "b"}}}, nil, "must be a valid JavaScript variable"},
		{"reserved", []Binding{{Alias: "class", Keyspace: docstore.Keyspace{Bucket: "b"}}}, nil, "JavaScript reserved word"},
		{"n1ql reserved", []Binding{{Alias: "SELECT", Keyspace: docstore.Keyspace{Bucket: "b"}}}, nil, "N1QL reserved word"},
		{"access", []Binding{{Alias: "a", Keyspace: docstore.Keyspace{Bucket: "b"}, Access: "w"}}, nil, "invalid bucket access"},
		{"no bucket", []Binding{{Alias: "a"}}, nil, "bucket name should not be empty"},
		{"duplicate", []Binding{{Alias: "a", Keyspace: docstore.Keyspace{Bucket: "b"}}, {Alias: "a", Keyspace: docstore.Keyspace{Bucket: "c"}}}, nil, "not unique"},
		{"constant dup", good, []Constant{{"dst", "1"}}, "not unique"},
		{"constant alias", nil, []Constant{{"a-b", "1"}}, "valid JavaScript variable"},
		{"constant empty", nil, []Constant{{"k", "  "}}, "should not be empty"},
		{"constant two statements", nil, []Constant{{"k", "1; log(2)"}}, "single expression"},
		{"constant two bindings", nil, []Constant{{"k", "1, j = 2"}}, "single expression"},
		{"constant syntax", nil, []Constant{{"k", "1 +"}}, "not a valid expression"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile("function OnUpdate(d, m) {}", Settings{}, c.constants, c.bindings)
			if !errors.Is(err, ErrInvalidBinding) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrInvalidBinding containing %q", err, c.want)
			}
		})
	}
}

func TestCompile_FunctionNamedLikeAlias(t *testing.T) {
	bindings := []Binding{{Alias: "dst", Keyspace: docstore.Keyspace{Bucket: "b"}}}
	ce := compileErr(t, "function OnUpdate(d, m) {}\nfunction dst() {}", Settings{}, nil, bindings)
	if ce.Line != 2 || !strings.Contains(ce.Message, "bucket binding") {
		t.Errorf("got %v", ce)
	}
	ce = compileErr(t, "function OnUpdate(d, m) {}\nfunction k() {}", Settings{}, []Constant{{"k", "1"}}, nil)
	if ce.Line != 2 || !strings.Contains(ce.Message, "constant binding") {
		t.Errorf("got %v", ce)
	}
}

func TestCompile_ErrorsOutsideUserCode(t *testing.T) {
	ce := compileErr(t, "function OnUpdate(d, m) {}", Settings{HandlerHeaders: []string{"var = ;"}}, nil, nil)
	if ce.Line != 0 || !strings.HasPrefix(ce.Message, "handler headers: ") {
		t.Errorf("header error: got %v", ce)
	}
	ce = compileErr(t, "function OnUpdate(d, m) {}", Settings{HandlerFooters: []string{"}"}}, []Constant{{"k", "1"}}, nil)
	if ce.Line != 0 || !strings.HasPrefix(ce.Message, "handler footers: ") {
		t.Errorf("footer error: got %v", ce)
	}
}

func TestCompile_UnclosedCodeReportedInUserCode(t *testing.T) {
	for _, code := range []string{
		"function OnUpdate(d, m) {\n  if (d) {\n    log(1);\n}\n",
		"function OnUpdate(d, m) {}\n/* unterminated\n",
	} {
		ce := compileErr(t, code, Settings{HandlerFooters: []string{"function F() {}"}}, []Constant{{"k", "1"}}, nil)
		if ce.Line == 0 || strings.Contains(ce.Message, "constant binding") || strings.Contains(ce.Message, "footers") {
			t.Errorf("%q: got %v, want an error in the user's code", code, ce)
		}
	}
}

func TestCompile_InvalidSettings(t *testing.T) {
	for _, s := range []Settings{{ExecutionTimeout: -1}, {LanguageCompatibility: "5.5.0"}} {
		if _, err := Compile("function OnUpdate(d, m) {}", s, nil, nil); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("Compile(%+v) = %v, want ErrInvalidSettings", s, err)
		}
	}
	p, err := Compile("function OnUpdate(d, m) {}", Settings{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Settings(); got.ExecutionTimeout != DefaultExecutionTimeout || got.LanguageCompatibility != Lang720 ||
		len(got.HandlerHeaders) != 1 || got.HandlerHeaders[0] != "'use strict';" {
		t.Errorf("defaults = %+v", got)
	}
}

func TestCompile_SourceMapCommentsAreNotFollowed(t *testing.T) {
	// goja would otherwise read the named file (relative to the working
	// directory) and report positions from it: here everything would map
	// to evil.js line 100.
	dir := t.TempDir()
	t.Chdir(dir)
	sourceMap := `{"version":3,"sources":["evil.js"],"names":[],"mappings":"AAmGA;AAAA;AAAA;AAAA"}`
	if err := os.WriteFile(filepath.Join(dir, "map.json"), []byte(sourceMap), 0o600); err != nil {
		t.Fatal(err)
	}
	code := "function OnUpdate(d, m) {\n  throw new Error('x');\n}\n//# sourceMappingURL=map.json\n"
	p, err := Compile(code, Settings{}, nil, nil)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	w, err := NewWorker(p, Config{})
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	defer w.Close()
	err = w.Handle(context.Background(), mutation("k", `{}`), newFakeStore())
	var ie *InvocationError
	if !errors.As(err, &ie) || ie.Line != 2 || strings.Contains(ie.Stack, "evil.js") {
		t.Errorf("Handle = %+v, want the exception at handler.js line 2", err)
	}
}

func TestValidateAlias(t *testing.T) {
	valid := []string{"a", "dst_bucket", "$x", "_", "B2", strings.Repeat("a", 64)}
	for _, a := range valid {
		if err := ValidateAlias(a); err != nil {
			t.Errorf("ValidateAlias(%q) = %v", a, err)
		}
	}
	invalid := []string{"", "2a", "a-b", "a b", "é", "var", "function", "delete", "Update", "upsert", "null", strings.Repeat("a", 65)}
	for _, a := range invalid {
		if err := ValidateAlias(a); !errors.Is(err, ErrInvalidBinding) {
			t.Errorf("ValidateAlias(%q) = %v, want ErrInvalidBinding", a, err)
		}
	}
}
