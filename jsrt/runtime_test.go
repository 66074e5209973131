package jsrt

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// newTestRuntime returns a Runtime with the whole core installed (guards,
// two error classes, log into lines, builtins on a "ns" global), closed
// when the test ends.
func newTestRuntime(t *testing.T, cfg Config) (*Runtime, *[]string) {
	t.Helper()
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	r := New(cfg)
	t.Cleanup(r.Close)
	var lines []string
	ns := r.VM().NewObject()
	for _, step := range []func() error{
		r.InstallGuards,
		func() error { return r.InstallErrorClasses("user.js", "AppError", "CurlError") },
		func() error { return r.InstallLog(func(s string) { lines = append(lines, s) }) },
		func() error {
			return r.InstallBuiltins(ns, func(msg string) { r.Throw(r.ErrorClass("AppError"), r.VM().ToValue(msg)) })
		},
		func() error { return r.VM().Set("ns", ns) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return r, &lines
}

// invoke runs src as one invocation under ctx.
func invoke(r *Runtime, ctx context.Context, src string) (goja.Value, error) {
	r.Begin(ctx)
	defer r.End()
	return r.VM().RunScript("user.js", src)
}

func TestRuntime_TimeoutInterrupts(t *testing.T) {
	r, _ := newTestRuntime(t, Config{Timeout: 50 * time.Millisecond})
	_, err := invoke(r, context.Background(), `while (true) {}`)
	var intr *goja.InterruptedError
	if !errors.As(err, &intr) || !errors.Is(InterruptCause(intr), ErrTimeout) {
		t.Fatalf("err = %v, want an interrupt by ErrTimeout", err)
	}
	// The next invocation runs normally: the interrupt was cleared.
	if v, err := invoke(r, context.Background(), `1 + 1`); err != nil || v.ToInteger() != 2 {
		t.Fatalf("after a timeout: %v, %v", v, err)
	}
}

func TestRuntime_ContextInterrupts(t *testing.T) {
	r, _ := newTestRuntime(t, Config{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := invoke(r, ctx, `while (true) {}`)
	var intr *goja.InterruptedError
	if !errors.As(err, &intr) || !errors.Is(InterruptCause(intr), context.Canceled) {
		t.Fatalf("err = %v, want an interrupt by context.Canceled", err)
	}
	// A context already done interrupts the next invocation at once.
	if _, err := invoke(r, ctx, `while (true) {}`); !errors.As(err, &intr) {
		t.Fatalf("done context: err = %v", err)
	}
}

func TestRuntime_InterruptOnlyWhileRunning(t *testing.T) {
	r, _ := newTestRuntime(t, Config{})
	r.Interrupt(errors.New("between invocations")) // must not reach the next one
	if _, err := invoke(r, context.Background(), `1`); err != nil {
		t.Fatalf("err = %v", err)
	}
}

func TestRuntime_MemoryBudget(t *testing.T) {
	g := NewMemoryGuard(5 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.Run(ctx)
	r, _ := newTestRuntime(t, Config{Timeout: time.Minute, MemoryBudget: 32 << 20, Memory: g})
	_, err := invoke(r, context.Background(), `var kept = []; while (true) kept.push('x'.repeat(1 << 20) + kept.length);`)
	var intr *goja.InterruptedError
	if !errors.As(err, &intr) || !errors.Is(InterruptCause(intr), ErrMemoryBudget) {
		t.Fatalf("err = %v, want an interrupt by ErrMemoryBudget", err)
	}
	r.Reset() // drop what the invocation built
	runtime.GC()
	// A one-call allocation past the budget is refused before it is made.
	r2, _ := newTestRuntime(t, Config{MemoryBudget: 1 << 20})
	v, err := invoke(r2, context.Background(), `try { new Array(1e6).fill(0); 'no exception' } catch (e) { e.name }`)
	if err != nil || v.String() != "RangeError" {
		t.Fatalf("fill past the budget: %v, %v", v, err)
	}
}

func TestRuntime_LogAndDescribe(t *testing.T) {
	r, lines := newTestRuntime(t, Config{})
	_, err := invoke(r, context.Background(), `log('a', 1, {b: [2]}, new TypeError('t'), new AppError({code: 1}));
throw new AppError({code: 2});`)
	var ex *goja.Exception
	if !errors.As(err, &ex) {
		t.Fatalf("err = %v, want an exception", err)
	}
	if got := r.Describe(ex.Value()); got != `AppError: {"code":2}` {
		t.Errorf("Describe = %q", got)
	}
	if len(*lines) != 1 || !strings.HasPrefix((*lines)[0], `"a" 1 {"b":[2]} "TypeError: t" {"message":{"code":1},"stack":"AppError`) {
		t.Errorf("log lines = %q", *lines)
	}
	if !strings.Contains((*lines)[0], `user.js:1:`) {
		t.Errorf("the error's stack lost the user's frame: %q", (*lines)[0])
	}
}

func TestRuntime_Builtins(t *testing.T) {
	r, _ := newTestRuntime(t, Config{})
	v, err := invoke(r, context.Background(), `[crc64("hello"), ns.crc_64_go_iso("hello"), ns.base64Encode("hi"),
ns.base64Decode(ns.base64Encode("hé")), (function () { try { ns.base64Decode(1); } catch (e) { return e.name; } })()].join(' ')`)
	if err != nil {
		t.Fatal(err)
	}
	// crc64 hashes JSON.stringify("hello"), crc_64_go_iso the raw string.
	if want := crcHex([]byte(`"hello"`)) + " 3c3eeee2d8100000 aGk= hé AppError"; v.String() != want {
		t.Errorf("got %q, want %q", v.String(), want)
	}
}

func TestRuntime_CurlNeedsItsErrorClass(t *testing.T) {
	r := New(Config{Timeout: time.Second})
	defer r.Close()
	if err := r.InstallCurl(CurlConfig{}); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("InstallCurl without CurlError: %v", err)
	}
}

func TestCompileAST_SharedProgram(t *testing.T) {
	prg, err := Parse("user.js", `var n = (typeof n === 'number' ? n : 0) + 1; n`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := CompileAST(prg, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		r := New(Config{Timeout: time.Second})
		v, err := r.VM().RunProgram(p)
		r.Close()
		if err != nil || v.ToInteger() != 1 {
			t.Fatalf("runtime %d: %v, %v", i, v, err)
		}
	}
	if _, err := Parse("user.js", `function f( {`); err == nil {
		t.Fatal("Parse accepted a syntax error")
	}
}
