package library

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dop251/goja"

	"eventide/consensus"
	"eventide/internal/testlog"
)

// newTestService returns a Service on a single-node Raft store; scopes
// lists the bucket.scope names that exist.
func newTestService(t *testing.T, scopes ...string) (*Service, *consensus.Store) {
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
	svc, err := New(Config{
		Records: store,
		ScopeExists: func(b, s string) bool {
			for _, sc := range scopes {
				if sc == b+"."+s {
					return true
				}
			}
			return false
		},
		Logger: logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	return svc, store
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
}

var (
	adder      = Function{Name: "adder", Code: "function adder(a, b) { return a + b; }"}
	multiplier = Function{Name: "multiplier", Code: "function multiplier(a, b) { return a * b; }"}
	f2c        = Function{Name: "f2c", Code: "function f2c(f) { return (5/9)*(f-32); }"}
)

// call runs function fn of a library through Program in a fresh runtime.
func call(t *testing.T, svc *Service, sc Scope, lib, fn string, args ...any) any {
	t.Helper()
	p, err := svc.Program(sc, lib, fn)
	if err != nil {
		t.Fatal(err)
	}
	vm := goja.New()
	if _, err := vm.RunProgram(p.Program); err != nil {
		t.Fatal(err)
	}
	f, ok := goja.AssertFunction(vm.Get(fn))
	if !ok {
		t.Fatalf("%s is not a function", fn)
	}
	vals := make([]goja.Value, len(args))
	for i, a := range args {
		vals[i] = vm.ToValue(a)
	}
	v, err := f(goja.Undefined(), vals...)
	if err != nil {
		t.Fatal(err)
	}
	return v.Export()
}

func names(fns []Function) string {
	var out []string
	for _, f := range fns {
		out = append(out, f.Name)
	}
	return strings.Join(out, ",")
}

func TestAppendLibraries_CreatesThenAppendsAndOverwrites(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	must(t, svc.AppendLibraries(ctx, []LibrarySpec{{Name: "math", Functions: []Function{adder, multiplier}}, {Name: "science", Functions: []Function{f2c}}}))

	math, ok := svc.Library(Scope{}, "math")
	if !ok || names(math.Functions) != "adder,multiplier" {
		t.Fatalf("math = %+v, %v", math, ok)
	}
	for _, f := range math.Functions {
		if !validID(f.ID) {
			t.Fatalf("generated id %q is not xx:xx:xx:xx:xx:xx:xx:xx", f.ID)
		}
	}
	oldAdder := math.Functions[0].ID
	oldMul := math.Functions[1].ID

	// Append: sub is added, adder is overwritten in place, multiplier kept.
	sub := Function{Name: "sub", Code: "function sub(a, b) { return a - b; }"}
	newAdder := Function{Name: "adder", Code: "function adder(a, b) { return 100 + a + b; }"}
	must(t, svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{newAdder, sub}}))
	math, _ = svc.Library(Scope{}, "math")
	if names(math.Functions) != "adder,multiplier,sub" {
		t.Fatalf("functions after append: %s", names(math.Functions))
	}
	if math.Functions[0].ID == oldAdder || math.Functions[1].ID != oldMul {
		t.Fatalf("ids: changed code keeps %s, unchanged code %s→%s", oldAdder, oldMul, math.Functions[1].ID)
	}
	if got := call(t, svc, Scope{}, "math", "adder", 1, 2); got != int64(103) {
		t.Fatalf("adder(1,2) = %v after overwrite", got)
	}
	if got := call(t, svc, Scope{}, "science", "f2c", 212); got != int64(100) {
		t.Fatalf("f2c(212) = %v", got)
	}
	if libs := svc.Libraries(); len(libs) != 2 || libs[0].Name != "math" || libs[1].Name != "science" {
		t.Fatalf("libraries: %+v", libs)
	}
}

func TestReplaceLibrary_DropsOtherFunctions(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	must(t, svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{adder, multiplier}}))
	must(t, svc.ReplaceLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{f2c}}))
	math, _ := svc.Library(Scope{}, "math")
	if names(math.Functions) != "f2c" {
		t.Fatalf("functions after replace: %s", names(math.Functions))
	}
	_, err := svc.Program(Scope{}, "math", "adder")
	wantKind(t, err, ErrFunctionNotFound)
}

func TestReplaceAllAndDeleteAll_TouchOnlyGlobalLibraries(t *testing.T) {
	svc, _ := newTestService(t, "travel.inventory")
	ctx := ctxT(t)
	inv := Scope{"travel", "inventory"}
	must(t, svc.AppendLibraries(ctx, []LibrarySpec{{Name: "math", Functions: []Function{adder}}, {Name: "old", Functions: []Function{f2c}}}))
	must(t, svc.PutText(ctx, inv, "science", f2c.Code))

	must(t, svc.ReplaceAllLibraries(ctx, []LibrarySpec{{Name: "math", Functions: []Function{multiplier}}, {Name: "fresh", Functions: []Function{f2c}}}))
	got, _ := svc.LibrariesIn(Scope{})
	if len(got) != 2 || got[0].Name != "fresh" || got[1].Name != "math" || names(got[1].Functions) != "multiplier" {
		t.Fatalf("global libraries after replace all: %+v", got)
	}
	must(t, svc.DeleteAllLibraries(ctx))
	if got, _ := svc.LibrariesIn(Scope{}); len(got) != 0 {
		t.Fatalf("global libraries after delete all: %+v", got)
	}
	if _, ok := svc.Library(inv, "science"); !ok {
		t.Fatal("a scoped library went with the global ones")
	}
	must(t, svc.DeleteAllLibraries(ctx)) // nothing left: still fine
}

func TestPutFunction_CreatesLibraryAndKeepsGivenID(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	f := Function{Name: "sub", ID: "c4:1a:39:46:46:88:ff:3d", Code: "function sub(a,b) { return helper(a,b); }\nfunction helper(a,b) { return a - b; }"}
	must(t, svc.PutFunction(ctx, Scope{}, "math", f))
	got, err := svc.Function(Scope{}, "math", "sub")
	must(t, err)
	if got != f {
		t.Fatalf("function = %+v, want %+v", got, f)
	}
	if v := call(t, svc, Scope{}, "math", "sub", 5, 3); v != int64(2) {
		t.Fatalf("sub(5,3) = %v", v)
	}
	// helper is not an object of the functions form.
	_, err = svc.Program(Scope{}, "math", "helper")
	wantKind(t, err, ErrFunctionNotFound)
}

func TestDeleteFunctionAndLibrary_NotFoundAfterwards(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	must(t, svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{adder, multiplier}}))
	must(t, svc.DeleteFunction(ctx, Scope{}, "math", "adder"))
	_, err := svc.Function(Scope{}, "math", "adder")
	wantKind(t, err, ErrFunctionNotFound)
	wantKind(t, svc.DeleteFunction(ctx, Scope{}, "math", "adder"), ErrFunctionNotFound)
	wantKind(t, svc.DeleteFunction(ctx, Scope{}, "nomath", "adder"), ErrNotFound)

	must(t, svc.DeleteLibrary(ctx, Scope{}, "math"))
	err = svc.DeleteLibrary(ctx, Scope{}, "math")
	wantKind(t, err, ErrNotFound)
	if err.Error() != "Library [math] not found" {
		t.Fatalf("message %q", err.Error())
	}
	if _, ok := svc.Library(Scope{}, "math"); ok {
		t.Fatal("deleted library still there")
	}
}

func TestPutText_TextFormAndItsFunctionView(t *testing.T) {
	svc, _ := newTestService(t, "travel.inventory")
	ctx := ctxT(t)
	text := "var factor = 2;\nfunction add(a, b) { return a + b; }\nfunction twice(a) { return helper(a) * factor; }\nfunction helper(a) { return a; }"
	inv := Scope{"travel", "inventory"}
	must(t, svc.PutText(ctx, inv, "science", text))

	l, ok := svc.Library(inv, "science")
	if !ok || !l.IsText() || l.Code() != text {
		t.Fatalf("library = %+v", l)
	}
	objs := l.FunctionObjects()
	if names(objs) != "add,twice,helper" || objs[1].Code != text || !validID(objs[1].ID) {
		t.Fatalf("function objects = %+v", objs)
	}
	if again, _ := svc.Library(inv, "science"); again.FunctionObjects()[1].ID != objs[1].ID {
		t.Fatal("derived ids are not stable")
	}
	if v := call(t, svc, inv, "science", "twice", 21); v != int64(42) {
		t.Fatalf("twice(21) = %v", v)
	}
	// The same name in another namespace is another library.
	if _, ok := svc.Library(Scope{}, "science"); ok {
		t.Fatal("a scoped library is visible globally")
	}
	if got, _ := svc.LibrariesIn(inv); len(got) != 1 || got[0].Name != "science" {
		t.Fatalf("libraries in scope: %+v", got)
	}

	// Appending through the functions form keeps everything: each old
	// function still runs with the whole old text.
	must(t, svc.PutFunction(ctx, inv, "science", Function{Name: "neg", Code: "function neg(a) { return -a; }"}))
	l, _ = svc.Library(inv, "science")
	if l.IsText() || names(l.Functions) != "add,twice,helper,neg" {
		t.Fatalf("after append: %+v", l)
	}
	if v := call(t, svc, inv, "science", "twice", 4); v != int64(8) {
		t.Fatalf("twice(4) = %v after conversion", v)
	}

	// A text write replaces the library whole.
	must(t, svc.PutText(ctx, inv, "science", "function only() { return 1; }"))
	l, _ = svc.Library(inv, "science")
	if names(l.FunctionObjects()) != "only" {
		t.Fatalf("after text replace: %+v", l.FunctionObjects())
	}
}

func TestProgram_VersionChangesWithEveryWrite(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	must(t, svc.PutText(ctx, Scope{}, "lib", "function f() { return 1; }"))
	p1, err := svc.Program(Scope{}, "lib", "f")
	must(t, err)
	p1b, err := svc.Program(Scope{}, "lib", "f")
	must(t, err)
	if p1b.Program != p1.Program || p1b.Version != p1.Version {
		t.Fatal("an unchanged library was compiled again")
	}
	must(t, svc.PutText(ctx, Scope{}, "lib", "function f() { return 2; }"))
	p2, err := svc.Program(Scope{}, "lib", "f")
	must(t, err)
	if p2.Version <= p1.Version || p2.Program == p1.Program {
		t.Fatalf("versions %d then %d", p1.Version, p2.Version)
	}
	if l, _ := svc.Library(Scope{}, "lib"); l.Version != p2.Version {
		t.Fatalf("library version %d, program version %d", l.Version, p2.Version)
	}
	if v := call(t, svc, Scope{}, "lib", "f"); v != int64(2) {
		t.Fatalf("f() = %v after the change", v)
	}
	_, err = svc.Program(Scope{}, "nolib", "f")
	wantKind(t, err, ErrNotFound)
}

func TestWrites_BadInputIsRefusedAndChangesNothing(t *testing.T) {
	svc, store := newTestService(t, "travel.inventory")
	ctx := ctxT(t)
	must(t, svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{adder}}))
	before, _ := svc.Library(Scope{}, "math")
	big := strings.Repeat("x", 1<<20)

	cases := []struct {
		name  string
		write func() error
		kind  error
	}{
		{"empty library name", func() error { return svc.PutText(ctx, Scope{}, "", "function f() {}") }, ErrInvalidName},
		{"library name with a dollar", func() error {
			return svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "lib$name", Functions: []Function{adder}})
		}, ErrInvalidName},
		{"library name starting with underscore", func() error { return svc.PutText(ctx, Scope{}, "_lib", "function f() {}") }, ErrInvalidName},
		{"library name with a slash", func() error { return svc.PutText(ctx, Scope{}, "a/b", "function f() {}") }, ErrInvalidName},
		{"empty function name", func() error { return svc.PutFunction(ctx, Scope{}, "math", Function{Code: "function f() {}"}) }, ErrInvalidName},
		{"function name not an identifier", func() error {
			return svc.PutFunction(ctx, Scope{}, "math", Function{Name: "1x", Code: "function f() {}"})
		}, ErrInvalidName},
		{"bad function id", func() error {
			return svc.PutFunction(ctx, Scope{}, "math", Function{Name: "f", ID: "zz", Code: "function f() {}"})
		}, ErrInvalid},
		{"no code", func() error { return svc.PutFunction(ctx, Scope{}, "math", Function{Name: "f", Code: "  "}) }, ErrInvalid},
		{"empty text", func() error { return svc.PutText(ctx, Scope{}, "math", "") }, ErrInvalid},
		{"duplicate function", func() error {
			return svc.AppendLibrary(ctx, Scope{}, LibrarySpec{Name: "math", Functions: []Function{multiplier, multiplier}})
		}, ErrInvalid},
		{"duplicate library", func() error {
			return svc.AppendLibraries(ctx, []LibrarySpec{{Name: "x", Functions: []Function{adder}}, {Name: "x"}})
		}, ErrInvalid},
		{"bucket without scope", func() error { return svc.PutText(ctx, Scope{Bucket: "travel"}, "math", "function f() {}") }, ErrInvalid},
		{"missing scope", func() error { return svc.PutText(ctx, Scope{"travel", "nowhere"}, "math", "function f() {}") }, ErrScopeNotFound},
		{"bad scope name", func() error { return svc.PutText(ctx, Scope{"travel", "_x"}, "math", "function f() {}") }, ErrInvalidName},
		{"too large", func() error { return svc.PutText(ctx, Scope{}, "math", "//"+big) }, ErrTooLarge},
		{"syntax error in text", func() error { return svc.PutText(ctx, Scope{}, "math", "function adder(a, b) { retur a + b; }") }, ErrCompile},
		{"syntax error in one of several libraries", func() error {
			return svc.AppendLibraries(ctx, []LibrarySpec{{Name: "ok", Functions: []Function{f2c}}, {Name: "bad", Functions: []Function{{Name: "f", Code: "function f( {"}}}})
		}, ErrCompile},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, tc.write(), tc.kind)
		})
	}
	after, _ := svc.Library(Scope{}, "math")
	if after.Version != before.Version {
		t.Fatal("a refused write changed the library")
	}
	if n := len(store.Records(table)); n != 1 {
		t.Fatalf("%d library records, want only math", n)
	}
}

func TestCompileError_HasLineAndColumn(t *testing.T) {
	svc, _ := newTestService(t)
	err := svc.PutText(ctxT(t), Scope{}, "math", "function ok() { return 1; }\nfunction adder(a, b) { retur a + b; }")
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v, want a *CompileError", err)
	}
	if ce.Line != 2 || ce.Column == 0 || !strings.HasPrefix(ce.Message, "SyntaxError: ") {
		t.Fatalf("compile error %+v", ce)
	}
	if !strings.Contains(ce.Error(), "line 2, column") {
		t.Fatalf("message %q", ce.Error())
	}
}

func TestConcurrentAppends_NoneIsLost(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := "f" + string(rune('a'+i))
			errs <- svc.PutFunction(ctx, Scope{}, "lib", Function{Name: name, Code: "function " + name + "() { return 1; }"})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	l, _ := svc.Library(Scope{}, "lib")
	if len(l.Functions) != n {
		t.Fatalf("%d functions, want %d: %s", len(l.Functions), n, names(l.Functions))
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	_, err := New(Config{MaxLibraryBytes: -1})
	wantKind(t, err, ErrMissingDependency)
	wantKind(t, err, ErrInvalidConfig)
}

func TestProgram_FunctionObjectMustDeclareItsName(t *testing.T) {
	svc, _ := newTestService(t)
	ctx := ctxT(t)
	// Couchbase stores a mismatch and fails at call time; so does Program,
	// every time (the compiled program is cached).
	must(t, svc.PutFunction(ctx, Scope{}, "lib", Function{Name: "f", Code: "function g() { return 1; }"}))
	for range 2 {
		_, err := svc.Program(Scope{}, "lib", "f")
		wantKind(t, err, ErrFunctionNotFound)
	}
	must(t, svc.DeleteLibrary(ctx, Scope{}, "lib"))
	_, err := svc.Program(Scope{}, "lib", "f")
	wantKind(t, err, ErrNotFound)
}
