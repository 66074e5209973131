package udf

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testlog"
	"eventide/jsrt"
	"eventide/query/engine"
	"eventide/query/library"
	"eventide/query/value"
)

// newTestService returns a Service and its libraries on a single-node Raft
// store; scopes lists the bucket.scope names that exist.
func newTestService(t testing.TB, scopes ...string) (*Service, *library.Service) {
	t.Helper()
	return newTestServiceWith(t, func(*Config) {}, scopes...)
}

// newTestServiceWith is newTestService with settings changed by set.
func newTestServiceWith(t testing.TB, set func(*Config), scopes ...string) (*Service, *library.Service) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := consensus.OpenSingle(consensus.Config{DataDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := store.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	exists := func(b, s string) bool { return slices.Contains(scopes, b+"."+s) }
	libs, err := library.New(library.Config{Records: store, ScopeExists: exists, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Records: store, Libraries: libs, ScopeExists: exists, Logger: logger}
	set(&cfg)
	svc, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc, libs
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantError checks an error's kind and the code and message the engine
// reports.
func wantError(t *testing.T, err, kind error, code int, msg string) *engine.Error {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is no *engine.Error", err)
	}
	if ee.Code != code || (msg != "" && ee.Msg != msg) {
		t.Fatalf("engine error %d %q, want %d %q", ee.Code, ee.Msg, code, msg)
	}
	return ee
}

func global(name string) engine.FunctionName { return engine.FunctionName{Name: name} }

func scoped(b, s, name string) engine.FunctionName {
	return engine.FunctionName{Namespace: "default", Bucket: b, Scope: s, Name: name}
}

func inlineDef(n engine.FunctionName, expr string, params ...string) engine.FunctionDef {
	return engine.FunctionDef{Name: n, Params: params, Language: engine.LanguageInline, Expression: expr}
}

func jsDef(n engine.FunctionName, lib, object string, params ...string) engine.FunctionDef {
	return engine.FunctionDef{Name: n, Params: params, Language: engine.LanguageJavaScript, Library: lib, Object: object}
}

func names(defs []engine.FunctionDef) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = displayName(d.Name)
	}
	return out
}

func TestCreate_GetReplaceDropList(t *testing.T) {
	svc, _ := newTestService(t, "b.s")
	ctx := ctxT(t)
	f := inlineDef(global("f"), "(x + 1)", "x")
	must(t, svc.Create(ctx, f, false, false))
	got, ok := svc.Get(global("f"))
	if !ok || got.Expression != "(x + 1)" || got.Name.Namespace != "default" || !slices.Equal(got.Params, []string{"x"}) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}

	err := svc.Create(ctx, inlineDef(global("f"), "(x + 2)", "x"), false, false)
	wantError(t, err, ErrExists, 10102, "Function 'f' already exists")
	must(t, svc.Create(ctx, inlineDef(global("f"), "(x + 3)", "x"), false, true)) // IF NOT EXISTS: unchanged
	if got, _ := svc.Get(global("f")); got.Expression != "(x + 1)" {
		t.Fatalf("IF NOT EXISTS changed the function: %q", got.Expression)
	}
	must(t, svc.Create(ctx, inlineDef(global("f"), "(x + 4)", "x"), true, false))
	if got, _ := svc.Get(engine.FunctionName{Namespace: "default", Name: "f"}); got.Expression != "(x + 4)" {
		t.Fatalf("OR REPLACE kept %q", got.Expression)
	}

	must(t, svc.Create(ctx, jsDef(scoped("b", "s", "f"), "./math", "add", "a", "b"), false, false))
	must(t, svc.Create(ctx, jsDef(global("a"), "math", "add", "a", "b"), false, false))
	must(t, svc.Create(ctx, inlineDef(scoped("b", "s", "a"), "1"), false, false))
	if got := names(svc.List()); !slices.Equal(got, []string{"default:a", "default:f", "default:b.s.a", "default:b.s.f"}) {
		t.Fatalf("List = %v", got)
	}
	if got, _ := svc.Get(scoped("b", "s", "f")); got.Library != "./math" || got.Object != "add" {
		t.Fatalf("scoped Get = %+v", got)
	}

	must(t, svc.Drop(ctx, global("f"), false))
	if _, ok := svc.Get(global("f")); ok {
		t.Fatal("dropped function still there")
	}
	if _, ok := svc.Get(scoped("b", "s", "f")); !ok {
		t.Fatal("dropping the global f dropped the scoped one")
	}
	wantError(t, svc.Drop(ctx, global("f"), false), ErrNotFound, 10101, "Function 'f' not found")
	must(t, svc.Drop(ctx, global("f"), true))
	if got := names(svc.List()); !slices.Equal(got, []string{"default:a", "default:b.s.a", "default:b.s.f"}) {
		t.Fatalf("List = %v", got)
	}
}

func TestGet_CallerCannotChangeStoredDefinition(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	must(t, svc.Create(ctx, inlineDef(global("f"), "x", "x"), false, false))
	got, _ := svc.Get(global("f"))
	got.Params[0] = "changed"
	if again, _ := svc.Get(global("f")); again.Params[0] != "x" {
		t.Fatalf("Get shares its params: %v", again.Params)
	}
}

func TestCreate_BadInputChangesNothing(t *testing.T) {
	svc, _ := newTestService(t, "b.s")
	ctx := ctxT(t)
	cases := []struct {
		name string
		def  engine.FunctionDef
		kind error
		code int
	}{
		{"empty name", inlineDef(global(""), "1"), ErrInvalidName, 10105},
		{"other namespace", inlineDef(engine.FunctionName{Namespace: "system", Name: "f"}, "1"), ErrInvalidName, 10105},
		{"bucket without scope", inlineDef(engine.FunctionName{Bucket: "b", Name: "f"}, "1"), ErrInvalidName, 10105},
		{"missing scope", inlineDef(scoped("b", "nope", "f"), "1"), ErrScopeNotFound, 12021},
		{"no expression", inlineDef(global("f"), " "), ErrInvalidDefinition, 10107},
		{"duplicate parameter", inlineDef(global("f"), "x", "x", "x"), ErrInvalidDefinition, 10107},
		{"unknown language", engine.FunctionDef{Name: global("f"), Language: "python", Expression: "1"}, ErrInvalidDefinition, 10107},
		{"javascript without body", engine.FunctionDef{Name: global("f"), Language: engine.LanguageJavaScript}, ErrInvalidDefinition, 10107},
		{"absolute library path", jsDef(global("f"), "/math", "add"), ErrLibraryPath, 10114},
		{"other scope's library", jsDef(scoped("b", "s", "f"), "b/t/math", "add"), ErrLibraryPath, 10114},
		{"code that does not compile", engine.FunctionDef{Name: global("f"), Language: engine.LanguageJavaScript, Code: "function f( {"}, ErrLoad, 10115},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, svc.Create(ctx, c.def, false, false), c.kind, c.code, "")
		})
	}
	if got := svc.List(); len(got) != 0 {
		t.Fatalf("bad input stored %v", names(got))
	}
	wantError(t, svc.Drop(ctx, global(""), true), ErrInvalidName, 10105, "")
}

func TestCreate_LibraryNeedNotExistUntilCalled(t *testing.T) {
	svc, libs := newTestService(t)
	ctx := ctxT(t)
	def := jsDef(global("add"), "math", "add", "a", "b")
	must(t, svc.Create(ctx, def, false, false))

	_, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1), value.NewInt(2)})
	ee := wantError(t, err, ErrExecution, 10109, "Error executing function 'add' (math:add)")
	if !strings.Contains(fmt.Sprint(ee.Reason), "Library [math] not found") {
		t.Fatalf("reason %v", ee.Reason)
	}

	must(t, libs.PutFunction(ctx, library.Scope{}, "math", library.Function{Name: "sub", Code: "function sub(a, b) { return a - b; }"}))
	_, err = svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1), value.NewInt(2)})
	wantError(t, err, ErrExecution, 10109, "Error executing function 'add' (math:add)")

	must(t, libs.PutFunction(ctx, library.Scope{}, "math", library.Function{Name: "add", Code: "function add(a, b) { return a + b; }"}))
	got, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1), value.NewInt(2)})
	must(t, err)
	if got.String() != "3" {
		t.Fatalf("add(1, 2) = %s", got)
	}

	must(t, libs.DeleteLibrary(ctx, library.Scope{}, "math"))
	_, err = svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1), value.NewInt(2)})
	wantError(t, err, ErrExecution, 10109, "")
}

func TestCreate_ConcurrentCreatorsOneWins(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = svc.Create(ctx, inlineDef(global("f"), fmt.Sprint(i)), false, false) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			wantError(t, err, ErrExists, 10102, "Function 'f' already exists")
		}
	}
	if won != 1 {
		t.Fatalf("%d creators won, want 1", won)
	}

	for i := range n {
		wg.Go(func() {
			errs[i] = svc.Create(ctx, inlineDef(global(fmt.Sprint("g", i%2)), fmt.Sprint(i)), true, false)
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	if got := names(svc.List()); !slices.Equal(got, []string{"default:f", "default:g0", "default:g1"}) {
		t.Fatalf("List = %v", got)
	}
}

// call calls a JavaScript function whose library text is code.
func callText(t *testing.T, svc *Service, libs *library.Service, code, fn string, args ...value.Value) (value.Value, error) {
	t.Helper()
	ctx := ctxT(t)
	must(t, libs.PutText(ctx, library.Scope{}, "lib", code))
	params := make([]string, len(args))
	for i := range params {
		params[i] = fmt.Sprint("p", i)
	}
	return svc.CallJavaScript(ctx, jsDef(global(fn), "lib", fn, params...), args)
}

func TestCallJavaScript_ArgumentsAndResults(t *testing.T) {
	svc, libs := newTestService(t)
	const code = `
function echo(x) { return x; }
function kind(x) { return x === undefined ? "undefined" : x === null ? "null" : Array.isArray(x) ? "array" :
	x instanceof ArrayBuffer ? "arraybuffer:" + x.byteLength : typeof x; }
function nan() { return NaN; }
function fn() { return function() {}; }
function date() { return new Date(0); }
function nested() { return {a: [1, 2.5, "x", true, null, {b: undefined, c: function() {}}], n: -0}; }
function cyclic() { var o = {}; o.o = o; return o; }
function big() { return 10n; }
function sym() { return Symbol("s"); }
function custom() { return {a: {toJSON: function() { return "j"; }}, m: new Map([[1, 2]]), g: {get x() { return 5; }}, h: [1, , 3]}; }
function getterThrows() { return {get x() { throw new Error("getter"); }}; }
function sparse() { var a = [1]; a[100000] = 2; return a.length; }
function protoKey(o) { return Object.getPrototypeOf(o) === Object.prototype && o.__proto__ !== undefined && Object.keys(o).join(); }
`
	obj := value.MustFromJSON(`{"s": "é\"", "n": [1, 2.5, -3e300], "o": {"t": true, "f": false, "z": null}, "e": {}, "a": []}`)
	echo := []struct {
		in, want value.Value
	}{
		{value.NewInt(42), value.NewInt(42)},
		{value.NewFloat(2.5), value.NewFloat(2.5)},
		{value.NewInt(-7), value.NewInt(-7)},
		{value.NewString("héllo"), value.NewString("héllo")},
		{value.NewBool(true), value.NewBool(true)},
		{value.NewBool(false), value.NewBool(false)},
		{value.NullValue, value.NullValue},
		{value.MissingValue, value.MissingValue},
		{value.MustFromJSON(`[1, "two", [3], {"four": 4}]`), value.MustFromJSON(`[1, "two", [3], {"four": 4}]`)},
		{obj, obj},
	}
	for _, c := range echo {
		got, err := callText(t, svc, libs, code, "echo", c.in)
		must(t, err)
		if value.Collate(got, c.want) != 0 || got.Kind() != c.want.Kind() {
			t.Errorf("echo(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	kinds := []struct {
		in   value.Value
		want string
	}{
		{value.MissingValue, "undefined"}, {value.NullValue, "null"}, {value.NewInt(1), "number"},
		{value.NewString(""), "string"}, {value.NewBool(false), "boolean"}, {value.MustFromJSON("[]"), "array"},
		{value.MustFromJSON("{}"), "object"}, {value.NewBinary([]byte{1, 2, 3}), "arraybuffer:3"},
	}
	for _, c := range kinds {
		got, err := callText(t, svc, libs, code, "kind", c.in)
		must(t, err)
		if s, _ := got.Str(); s != c.want {
			t.Errorf("kind(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	results := []struct {
		fn, want string
	}{
		{"nan", "null"},
		{"date", `"1970-01-01T00:00:00.000Z"`},
		{"nested", `{"a":[1,2.5,"x",true,null,{}],"n":0}`},
		{"custom", `{"a":"j","g":{"x":5},"h":[1,null,3],"m":{}}`},
		{"sparse", `100001`},
	}
	for _, c := range results {
		got, err := callText(t, svc, libs, code, c.fn)
		must(t, err)
		if got.String() != c.want {
			t.Errorf("%s() = %s, want %s", c.fn, got, c.want)
		}
	}
	// A "__proto__" field is an own field, as JSON.parse makes it.
	got, err := callText(t, svc, libs, code, "protoKey", value.MustFromJSON(`{"__proto__": {"x": 1}, "y": 2}`))
	must(t, err)
	if got.String() != `"__proto__,y"` {
		t.Errorf("protoKey = %s", got)
	}
	for _, fn := range []string{"fn", "sym"} {
		got, err := callText(t, svc, libs, code, fn)
		must(t, err)
		if !got.IsMissing() {
			t.Errorf("%s() = %s, want MISSING", fn, got)
		}
	}
	for _, fn := range []string{"cyclic", "big", "getterThrows"} {
		_, err := callText(t, svc, libs, code, fn)
		wantError(t, err, ErrExecution, 10109, "Error executing function '"+fn+"' (lib:"+fn+")")
	}
}

func TestCallJavaScript_ThrownErrors(t *testing.T) {
	svc, libs := newTestService(t)
	const code = `function fails(kind) {
	if (kind === "error") {
		throw new Error("boom");
	}
	throw {code: 7, why: kind};
}`
	_, err := callText(t, svc, libs, code, "fails", value.NewString("error"))
	ee := wantError(t, err, ErrExecution, 10109, "Error executing function 'fails' (lib:fails)")
	details, _ := ee.Reason["details"].(map[string]any)
	if ee.Reason["type"] != "Exceptions from JS code" || details["Exception"] != "Error: boom" || details["Location"] != "functions/lib.js:3" {
		t.Fatalf("reason %v", ee.Reason)
	}
	_, err = callText(t, svc, libs, code, "fails", value.NewString("object"))
	ee = wantError(t, err, ErrExecution, 10109, "")
	details, _ = ee.Reason["details"].(map[string]any)
	if fmt.Sprint(details["Exception"]) != "map[code:7 why:object]" {
		t.Fatalf("reason %v", ee.Reason)
	}
	// The runtime that threw stays usable.
	got, err := callText(t, svc, libs, code+"\nfunction ok() { return 1; }", "ok")
	must(t, err)
	if got.String() != "1" {
		t.Fatalf("ok() = %s", got)
	}
}

func TestCallJavaScript_RunawayStoppedByContext(t *testing.T) {
	svc, libs := newTestService(t)
	ctx := ctxT(t)
	must(t, libs.PutText(ctx, library.Scope{}, "lib", "function spin() { for (;;) {} }\nfunction one() { return 1; }"))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := svc.CallJavaScript(short, jsDef(global("spin"), "lib", "spin"), nil)
	ee := wantError(t, err, ErrTimeout, 10109, "Error executing function 'spin' (lib:spin)")
	if !errors.Is(err, context.DeadlineExceeded) || ee.Reason["type"] != "Timeout" {
		t.Fatalf("error %v, reason %v", err, ee.Reason)
	}
	got, err := svc.CallJavaScript(ctx, jsDef(global("one"), "lib", "one"), nil)
	must(t, err)
	if got.String() != "1" {
		t.Fatalf("one() = %s after a timeout", got)
	}
}

func TestCallJavaScript_ConfiguredTimeout(t *testing.T) {
	svc, libs := newTestServiceWith(t, func(c *Config) { c.Timeout = 50 * time.Millisecond })
	const code = `function spin() { while (true) {} }
function spinInGetter() { return {get x() { for (;;) {} }}; }
function spinInThrown() { throw {toString: function() { for (;;) {} }, get y() { for (;;) {} }}; }`
	for _, fn := range []string{"spin", "spinInGetter", "spinInThrown"} {
		_, err := callText(t, svc, libs, code, fn)
		wantError(t, err, ErrTimeout, 10109, "")
	}
}

func TestCallJavaScript_OneCallAllocationOverBudget(t *testing.T) {
	svc, libs := newTestService(t)
	_, err := callText(t, svc, libs, "function huge() { return new Array(1e9).fill(0).length; }", "huge")
	ee := wantError(t, err, ErrExecution, 10109, "")
	if !strings.Contains(fmt.Sprint(ee.Reason), "RangeError") {
		t.Fatalf("reason %v", ee.Reason)
	}
}

func TestCallJavaScript_LibraryUpdatedBetweenCalls(t *testing.T) {
	svc, libs := newTestService(t, "b.s")
	ctx := ctxT(t)
	sc := library.Scope{Bucket: "b", Scope: "s"}
	def := jsDef(scoped("b", "s", "f"), "./lib", "f", "x")
	must(t, svc.Create(ctx, def, false, false))
	for i := range 3 {
		must(t, libs.PutText(ctx, sc, "lib", fmt.Sprintf("var state = 0; function f(x) { state++; return x * %d; }", i+1)))
		for range 3 {
			got, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(10)})
			must(t, err)
			if want := fmt.Sprint(10 * (i + 1)); got.String() != want {
				t.Fatalf("version %d: f(10) = %s, want %s", i, got, want)
			}
		}
	}
	svc.js.mu.Lock()
	pools := len(svc.js.pools)
	svc.js.mu.Unlock()
	if pools != 1 {
		t.Fatalf("%d pools kept, want only the newest version's", pools)
	}
}

func TestCallJavaScript_InlineCode(t *testing.T) {
	svc, _ := newTestService(t, "b.s")
	ctx := ctxT(t)
	def := engine.FunctionDef{Name: scoped("b", "s", "sq"), Params: []string{"x"}, Language: engine.LanguageJavaScript,
		Code: "function sq(x) { if (x < 0) throw new RangeError('negative'); return x * x; }"}
	must(t, svc.Create(ctx, def, false, false))
	stored, _ := svc.Get(def.Name)
	got, err := svc.CallJavaScript(ctx, stored, []value.Value{value.NewFloat(1.5)})
	must(t, err)
	if got.String() != "2.25" {
		t.Fatalf("sq(1.5) = %s", got)
	}
	_, err = svc.CallJavaScript(ctx, stored, []value.Value{value.NewInt(-1)})
	wantError(t, err, ErrExecution, 10109, "Error executing function 'sq' (default:b.s.sq:sq)")
	_, err = svc.CallJavaScript(ctx, stored, nil)
	wantError(t, err, ErrArguments, 10104, "Incorrect number of arguments supplied to function 'sq'")

	variadic := engine.FunctionDef{Name: global("count"), Variadic: true, Language: engine.LanguageJavaScript,
		Code: "function count() { return arguments.length; }"}
	got, err = svc.CallJavaScript(ctx, variadic, []value.Value{value.NewInt(1), value.NullValue, value.NewString("x")})
	must(t, err)
	if got.String() != "3" {
		t.Fatalf("count(...) = %s", got)
	}
}

func TestCallJavaScript_Concurrent(t *testing.T) {
	svc, libs := newTestService(t)
	ctx := ctxT(t)
	must(t, libs.PutText(ctx, library.Scope{}, "lib", "function add(a, b) { return a + b; }"))
	def := jsDef(global("add"), "lib", "add", "a", "b")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				got, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(int64(g)), value.NewInt(int64(i))})
				if err != nil {
					errs <- err
					return
				}
				if n, _ := got.Int(); n != int64(g+i) {
					errs <- fmt.Errorf("add(%d, %d) = %s", g, i, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	svc.js.mu.Lock()
	defer svc.js.mu.Unlock()
	for _, p := range svc.js.pools {
		if live := len(p.slots); live > svc.cfg.RuntimesPerProgram {
			t.Fatalf("%d runtimes, more than %d", live, svc.cfg.RuntimesPerProgram)
		}
	}
}

func TestSystemRow(t *testing.T) {
	cases := []struct {
		def  engine.FunctionDef
		want string
	}{
		{jsDef(scoped("b", "s", "f"), "./math", "add", "a", "b"),
			`{"definition":{"#language":"javascript","libName":"math","library":"./math","object":"add","parameters":["a","b"],"prefix":"b/s"},"identity":{"bucket":"b","name":"f","namespace":"default","scope":"s","type":"scope"}}`},
		{jsDef(global("g"), "math", "add"),
			`{"definition":{"#language":"javascript","libName":"math","library":"math","object":"add","parameters":[]},"identity":{"name":"g","namespace":"default","type":"global"}}`},
		{engine.FunctionDef{Name: global("v"), Variadic: true, Language: engine.LanguageInline, Expression: "1"},
			`{"definition":{"#language":"inline","expression":"1"},"identity":{"name":"v","namespace":"default","type":"global"}}`},
		{engine.FunctionDef{Name: global("c"), Params: []string{"x"}, Language: engine.LanguageJavaScript, Code: "function c(x) {}"},
			`{"definition":{"#language":"javascript","parameters":["x"],"text":"function c(x) {}"},"identity":{"name":"c","namespace":"default","type":"global"}}`},
	}
	for _, c := range cases {
		if got := SystemRow(c.def).String(); got != c.want {
			t.Errorf("SystemRow(%s)\n got %s\nwant %s", displayName(c.def.Name), got, c.want)
		}
	}
}

func TestNew_Validates(t *testing.T) {
	_, err := New(Config{Timeout: time.Hour})
	if !errors.Is(err, ErrMissingDependency) || !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New = %v", err)
	}
}

func TestCallJavaScript_MemoryBudget(t *testing.T) {
	guard := jsrt.NewMemoryGuard(5 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { guard.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	svc, libs := newTestServiceWith(t, func(c *Config) { c.Memory, c.MemoryBudget = guard, 32<<20 })
	const code = `function hog() { var a = []; for (;;) { a.push(new Array(1000).fill(1)); } }
function one() { return 1; }`
	_, err := callText(t, svc, libs, code, "hog")
	ee := wantError(t, err, ErrExecution, 10109, "Error executing function 'hog' (lib:hog)")
	if !errors.Is(err, jsrt.ErrMemoryBudget) || ee.Reason["type"] != "Out of memory" {
		t.Fatalf("error %v, reason %v", err, ee.Reason)
	}
	got, err := callText(t, svc, libs, code, "one")
	must(t, err)
	if got.String() != "1" {
		t.Fatalf("one() = %s after a memory overrun", got)
	}
}

func TestCallJavaScript_LeastRecentlyUsedProgramsClosed(t *testing.T) {
	svc, libs := newTestServiceWith(t, func(c *Config) { c.MaxPrograms = 2 })
	ctx := ctxT(t)
	for i := range 5 {
		lib := fmt.Sprint("lib", i)
		must(t, libs.PutText(ctx, library.Scope{}, lib, fmt.Sprintf("function f() { return %d; }", i)))
		for range 2 {
			got, err := svc.CallJavaScript(ctx, jsDef(global("f"), lib, "f"), nil)
			must(t, err)
			if got.String() != fmt.Sprint(i) {
				t.Fatalf("%s f() = %s", lib, got)
			}
		}
	}
	svc.js.mu.Lock()
	pools := len(svc.js.pools)
	svc.js.mu.Unlock()
	if pools > 2 {
		t.Fatalf("%d pools, more than MaxPrograms", pools)
	}
	svc.Close()
	got, err := svc.CallJavaScript(ctx, jsDef(global("f"), "lib0", "f"), nil)
	must(t, err)
	if got.String() != "0" {
		t.Fatalf("after Close f() = %s", got)
	}
}

func TestCallJavaScript_CallerMistakes(t *testing.T) {
	svc, libs := newTestService(t)
	ctx := ctxT(t)
	must(t, libs.PutText(ctx, library.Scope{}, "lib", "var notFn = 1; function f(a) { return a; }"))
	_, err := svc.CallJavaScript(ctx, inlineDef(global("f"), "1"), nil)
	wantError(t, err, ErrInvalidDefinition, 10107, "")
	_, err = svc.CallJavaScript(ctx, jsDef(global("f"), "lib", "f", "a"), nil)
	wantError(t, err, ErrArguments, 10104, "Incorrect number of arguments supplied to function 'f'")
	_, err = svc.CallJavaScript(ctx, jsDef(global("f"), "/abs", "f"), nil)
	wantError(t, err, ErrLibraryPath, 10114, "")
	_, err = svc.CallJavaScript(ctx, jsDef(global("g"), "lib", "g"), nil)
	wantError(t, err, ErrExecution, 10109, "Error executing function 'g' (lib:g)")
	// A program whose top level throws never becomes a warm runtime.
	code := engine.FunctionDef{Name: global("h"), Language: engine.LanguageJavaScript, Code: "throw new Error('top'); function h() {}"}
	_, err = svc.CallJavaScript(ctx, code, nil)
	ee := wantError(t, err, ErrExecution, 10109, "Error executing function 'h' (default:h:h)")
	if !strings.Contains(fmt.Sprint(ee.Reason), "Error: top") {
		t.Fatalf("reason %v", ee.Reason)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	code.Code = "throw {get y() { for (;;) {} }}; function h() {}"
	_, err = svc.CallJavaScript(short, code, nil)
	wantError(t, err, ErrTimeout, 10109, "")
}

func TestCallJavaScript_ConcurrentWithLibraryUpdates(t *testing.T) {
	svc, libs := newTestServiceWith(t, func(c *Config) { c.RuntimesPerProgram = 2 })
	ctx := ctxT(t)
	put := func(k int) {
		must(t, libs.PutText(ctx, library.Scope{}, "lib", fmt.Sprintf("function f(x) { return x * %d; }", k)))
	}
	put(1)
	def := jsDef(global("f"), "lib", "f", "x")
	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1)})
				if err != nil {
					errs <- err
					return
				}
				if n, _ := got.Int(); n < 1 || n > 10 {
					errs <- fmt.Errorf("f(1) = %s, from no version written", got)
					return
				}
			}
		})
	}
	for k := 2; k <= 10; k++ {
		put(k)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := svc.CallJavaScript(ctx, def, []value.Value{value.NewInt(1)})
	must(t, err)
	if got.String() != "10" {
		t.Fatalf("after the last update f(1) = %s", got)
	}
	svc.js.mu.Lock()
	defer svc.js.mu.Unlock()
	if len(svc.js.pools) != 1 {
		t.Fatalf("%d pools, want the newest version's only", len(svc.js.pools))
	}
}
