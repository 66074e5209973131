package jsengine

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/testlog"
	"eventide/internal/testzip"
	"eventide/qinling"
)

// newTestEngine returns an engine logging to t, closed when the test ends.
func newTestEngine(t testing.TB, cfg Config) *Engine {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testlog.New(t), nil))
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	e := New(cfg)
	t.Cleanup(func() { e.Close() })
	return e
}

// codeOf is the Code of a function whose package holds files; entry ""
// means Qinling's default main.main.
func codeOf(t testing.TB, fn, entry string, files map[string]string) qinling.Code {
	pkg := testzip.Of(files)
	sum := md5.Sum(pkg)
	return qinling.Code{FunctionID: fn, Digest: hex.EncodeToString(sum[:]), Package: pkg, Entry: entry,
		Timeout: 10 * time.Second, MemoryBytes: 64 << 20}
}

// run executes code with input (JSON text, "" for none) and fails the test
// on an engine error.
func run(t testing.TB, e *Engine, code qinling.Code, input string) qinling.Result {
	t.Helper()
	inv := qinling.Invocation{ExecutionID: "exec-1", ProjectID: "proj"}
	if input != "" {
		inv.Input = json.RawMessage(input)
	}
	res, err := e.Run(context.Background(), code, inv)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// wantOutput checks a result's success and output JSON.
func wantOutput(t testing.TB, res qinling.Result, success bool, output string) {
	t.Helper()
	if res.Success != success || string(res.Output) != output {
		t.Fatalf("result = success %v, output %s; want success %v, output %s\nlog:\n%s",
			res.Success, res.Output, success, output, res.Log)
	}
}

// wantFailure checks a failed result whose output string contains substr.
func wantFailure(t testing.TB, res qinling.Result, substr string) {
	t.Helper()
	var msg string
	if res.Success || json.Unmarshal(res.Output, &msg) != nil || !strings.Contains(msg, substr) {
		t.Fatalf("result = success %v, output %s; want a failure whose message holds %q\nlog:\n%s",
			res.Success, res.Output, substr, res.Log)
	}
}

func TestRun_HelloString(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{
		"main.js": `exports.main = function (context, input) { return "Hello, NodeJS" }`,
	})
	res := run(t, e, code, `{"name": "Qinling"}`)
	wantOutput(t, res, true, `"Hello, NodeJS"`)
	if res.Log != "Start execution: exec-1\nFinished execution: exec-1\n" {
		t.Errorf("log = %q", res.Log)
	}
	if res.Duration <= 0 {
		t.Errorf("duration = %v", res.Duration)
	}
}

func TestRun_ReturnValues(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	cases := []struct {
		name, body string
		success    bool
		output     string
	}{
		{"object", `return {a: 1, b: [true, null, "x"], f: function () {}}`, true, `{"a":1,"b":[true,null,"x"]}`},
		{"number", `return 4.5`, true, `4.5`},
		{"undefined", `return`, true, ``},
		{"null", `return null`, true, `null`},
		{"bigint", `return 1n`, false, `"TypeError: Do not know how to serialize a BigInt"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := codeOf(t, "fn-"+c.name, "main.handler", map[string]string{
				"main.js": `exports.handler = function (context, input) { ` + c.body + ` }`,
			})
			wantOutput(t, run(t, e, code, ""), c.success, c.output)
		})
	}
}

func TestRun_RequireBetweenFiles(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "handler.main", map[string]string{
		"handler.js": `const util = require('./lib/util');
const lib = require('./lib');
const data = require('./data.json');
exports.main = (context, input) => util.shout(lib.name) + ' ' + data.greeting;`,
		"lib/util.js":  `const h = require('../helper'); exports.shout = s => h.upper(s) + '!';`,
		"lib/index.js": `module.exports = {name: 'qinling', dir: __dirname, file: __filename};`,
		"helper.js":    `exports.upper = s => s.toUpperCase();`,
		"data.json":    `{"greeting": "hi"}`,
	})
	wantOutput(t, run(t, e, code, ""), true, `"QINLING! hi"`)

	// node_modules are searched as Node does; a module outside the
	// package is not found.
	code = codeOf(t, "fn2", "main.main", map[string]string{
		"main.js": `const dep = require('dep');
exports.main = () => { let missing; try { require('../../etc/passwd'); } catch (e) { missing = e.message + ' ' + e.code; } return [dep.v, missing]; };`,
		"node_modules/dep/package.json": `{"main": "lib/dep.js"}`,
		"node_modules/dep/lib/dep.js":   `exports.v = 42;`,
	})
	wantOutput(t, run(t, e, code, ""), true, `[42,"Cannot find module '../../etc/passwd' MODULE_NOT_FOUND"]`)
}

func TestRun_Promises(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	cases := []struct {
		name, src string
		check     func(t *testing.T, res qinling.Result)
	}{
		{"async resolves", `exports.main = async (ctx, input) => { await null; return {n: input.n + 1}; }`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, true, `{"n":2}`) }},
		{"timer resolves", `exports.main = (ctx, input) => new Promise(r => setTimeout(() => r('late'), 20))`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, true, `"late"`) }},
		{"interval and immediate", `exports.main = () => new Promise(r => {
	let n = 0; const id = setInterval(() => { if (++n === 3) { clearInterval(id); setImmediate(r, n); } }, 1);
})`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, true, `3`) }},
		{"thenable", `exports.main = () => ({then(ok) { ok('thenable'); }})`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, true, `"thenable"`) }},
		{"rejects", `exports.main = async () => { throw new TypeError('bad input'); }`,
			func(t *testing.T, res qinling.Result) {
				wantOutput(t, res, false, `"TypeError: bad input"`)
				if !strings.Contains(res.Log, "TypeError: bad input\n\tat ") {
					t.Errorf("log has no stack: %q", res.Log)
				}
			}},
		{"rejects with a string", `exports.main = () => Promise.reject('nope')`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, false, `"nope"`) }},
		{"never settles", `exports.main = () => new Promise(() => {})`,
			func(t *testing.T, res qinling.Result) { wantFailure(t, res, "never settles") }},
		{"timer throws", `exports.main = () => new Promise(() => setTimeout(() => { throw new Error('in timer'); }, 1))`,
			func(t *testing.T, res qinling.Result) { wantOutput(t, res, false, `"Error: in timer"`) }},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := codeOf(t, fmt.Sprintf("fn-%d", i), "", map[string]string{"main.js": c.src})
			c.check(t, run(t, e, code, `{"n": 1}`))
		})
	}
}

func TestRun_ThrownError(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{"main.js": `
function inner() { throw new Error('boom'); }
exports.main = () => inner();`})
	res := run(t, e, code, "")
	wantOutput(t, res, false, `"Error: boom"`)
	if !strings.Contains(res.Log, "\tat inner (/main.js:2:26)\n") {
		t.Errorf("log has no stack of the package's file: %q", res.Log)
	}
	// The runtime stays usable after an exception.
	wantOutput(t, run(t, e, code, ""), false, `"Error: boom"`)
}

func TestRun_ConsoleLog(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{"main.js": `
console.log('loading');
exports.main = (ctx, input) => {
	console.log('hello', input.name, {a: [1]});
	console.error('%s is %d years, %j', 'Bob', 42, {x: 1}, 'extra');
	console.info('100%%', 'literal');
	log('jsrt log', 1);
	return 'ok';
}`})
	res := run(t, e, code, `{"name": "Qinling"}`)
	wantOutput(t, res, true, `"ok"`)
	want := "Start execution: exec-1\nloading\nhello Qinling {\"a\":[1]}\nBob is 42 years, {\"x\":1} extra\n100% literal\n\"jsrt log\" 1 \nFinished execution: exec-1\n"
	if res.Log != want {
		t.Errorf("log = %q\nwant  %q", res.Log, want)
	}
	// Module-level lines belong to the execution that loaded the module.
	res = run(t, e, code, `{"name": "again"}`)
	if strings.Contains(res.Log, "loading") || !strings.Contains(res.Log, "hello again") {
		t.Errorf("second log = %q", res.Log)
	}
}

func TestRun_InputAndContext(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "main.main", map[string]string{"main.js": `
exports.main = (context, input) => ({input: input, exec: context.execution_id, fn: context.function_id,
	project: context.project_id, type: typeof input})`})
	wantOutput(t, run(t, e, code, `{"name": "Qinling", "n": [1, 2]}`), true,
		`{"input":{"name":"Qinling","n":[1,2]},"exec":"exec-1","fn":"fn","project":"proj","type":"object"}`)
	wantOutput(t, run(t, e, code, ``), true, `{"input":null,"exec":"exec-1","fn":"fn","project":"proj","type":"object"}`)
	wantOutput(t, run(t, e, code, `"text"`), true, `{"input":"text","exec":"exec-1","fn":"fn","project":"proj","type":"string"}`)
}

func TestRun_TimeoutInterrupts(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{"main.js": `
let calls = 0;
exports.main = (ctx, input) => { calls++; if (input.loop) { while (true) {} } return calls; }`})
	code.Timeout = 100 * time.Millisecond
	start := time.Now()
	res := run(t, e, code, `{"loop": true}`)
	wantOutput(t, res, false, `"Function execution timeout."`)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
	// The interrupted runtime was discarded: the next call runs on a
	// fresh one, whose module state starts again.
	wantOutput(t, run(t, e, code, `{"loop": false}`), true, `1`)

	// A timer wait is bounded by the timeout too.
	code = codeOf(t, "fn2", "", map[string]string{"main.js": `exports.main = () => new Promise(r => setTimeout(r, 60000))`})
	code.Timeout = 100 * time.Millisecond
	wantOutput(t, run(t, e, code, ""), false, `"Function execution timeout."`)
}

func TestRun_MemoryBombStopped(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{"main.js": `
exports.main = (ctx, input) => {
	if (!input.bomb) return 'fine';
	const hoard = [];
	while (true) hoard.push('x'.repeat(1 << 20) + hoard.length); // 1 MiB each, all kept
}`})
	code.MemoryBytes = 16 << 20
	code.Timeout = time.Minute
	res := run(t, e, code, `{"bomb": true}`)
	wantOutput(t, res, false, `"`+msgResource+`"`)
	if !strings.Contains(res.Log, "memory_size") {
		t.Errorf("log = %q", res.Log)
	}
	wantOutput(t, run(t, e, code, `{"bomb": false}`), true, `"fine"`)
}

func TestRun_WarmReuseAndNewDigest(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	src := map[string]string{"main.js": `let n = 0; exports.main = () => ++n;`}
	code := codeOf(t, "fn", "", src)
	for want := 1; want <= 3; want++ {
		wantOutput(t, run(t, e, code, ""), true, fmt.Sprint(want))
	}
	// Another version of the same function has its own runtimes.
	v1 := code
	v1.Version = 1
	wantOutput(t, run(t, e, v1, ""), true, `1`)
	// New code (a new digest) for the latest version resets the state and
	// drops the old runtimes.
	src["main.js"] += "\n// updated"
	updated := codeOf(t, "fn", "", src)
	wantOutput(t, run(t, e, updated, ""), true, `1`)
	wantOutput(t, run(t, e, updated, ""), true, `2`)
	if p := e.Pool(); p.Available != p.Total-2 {
		t.Errorf("pool = %+v, want 2 runtimes (version 1's and the new code's)", p)
	}
	// A memory_size or entry change makes new runtimes too (their budget
	// and handler are fixed).
	updated.MemoryBytes *= 2
	wantOutput(t, run(t, e, updated, ""), true, `1`)
	wantOutput(t, run(t, e, updated, ""), true, `2`)
	updated.Entry = "main.main"
	wantOutput(t, run(t, e, updated, ""), true, `1`)
}

func TestEngine_ScaleDetachPool(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkers, cfg.MaxWorkersPerFunction, cfg.DefaultWarm = 10, 4, 1
	e := newTestEngine(t, cfg)
	wantPool := func(avail int) {
		t.Helper()
		if p := e.Pool(); p != (qinling.PoolInfo{Total: 10, Available: avail}) {
			t.Fatalf("pool = %+v, want total 10, available %d", p, avail)
		}
	}
	wantPool(10)
	code := codeOf(t, "fn", "", map[string]string{"main.js": `exports.main = () => 'ok'`})
	wantWorkers := func(n int) []string {
		t.Helper()
		names := e.Workers("fn", 0)
		if len(names) != n {
			t.Fatalf("workers = %v, want %d", names, n)
		}
		return names
	}
	wantWorkers(0)
	// Scaling a function not run yet makes its runtimes now.
	e.Scale(code, 2)
	wantPool(8)
	before := wantWorkers(2)
	wantOutput(t, run(t, e, code, ""), true, `"ok"`)
	wantPool(8)
	if after := wantWorkers(2); !slices.Equal(before, after) {
		t.Fatalf("workers after a run = %v, want the warm ones %v", after, before)
	}
	e.Scale(code, 3)
	wantPool(7)
	wantWorkers(3)
	e.Scale(code, 99) // bounded by MaxWorkersPerFunction
	wantPool(6)
	e.Scale(code, 1)
	wantPool(9)
	wantWorkers(1)
	if names := e.Workers("fn", 1); names != nil {
		t.Fatalf("version 1 has workers %v, never having run", names)
	}
	e.Detach("fn")
	wantPool(10)
	wantWorkers(0)
	// After Detach the function starts cold with DefaultWarm runtimes.
	wantOutput(t, run(t, e, code, ""), true, `"ok"`)
	wantPool(9)
	e.Scale(code, 0)
	wantPool(10)
	wantOutput(t, run(t, e, code, ""), true, `"ok"`)
	wantPool(9) // the runtime a run makes stays warm
}

func TestEngine_ScaleBeforeFirstRun(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkers, cfg.MaxWorkersPerFunction, cfg.DefaultWarm = 10, 4, 0
	e := newTestEngine(t, cfg)
	src := map[string]string{"main.js": `let n = 0; exports.main = () => ++n`}
	code := codeOf(t, "fn", "", src)
	e.Scale(code, 2)
	if got := e.Workers("fn", 0); len(got) != 2 {
		t.Fatalf("workers after Scale 2 before any run = %v, want 2", got)
	}
	// The warm runtimes run the code: the first run is on one of them
	// (the pool does not grow) and they keep their state.
	wantOutput(t, run(t, e, code, ""), true, `1`)
	wantOutput(t, run(t, e, code, ""), true, `2`)
	if p := e.Pool(); p.Available != 8 {
		t.Fatalf("pool = %+v, want 2 runtimes", p)
	}
	// New latest code scaled before it runs replaces the old runtimes.
	src["main.js"] += "\n// updated"
	updated := codeOf(t, "fn", "", src)
	e.Scale(updated, 3)
	if p := e.Pool(); p.Available != 7 {
		t.Fatalf("pool after scaling new code = %+v, want its 3 runtimes only", p)
	}
	wantOutput(t, run(t, e, updated, ""), true, `1`)
	// Code that cannot load makes no runtimes; its runs say why.
	bad := codeOf(t, "bad", "noentry", map[string]string{"main.js": `exports.main = () => 1`})
	e.Scale(bad, 2)
	if got := e.Workers("bad", 0); got != nil {
		t.Fatalf("workers of code that does not load = %v", got)
	}
	wantFailure(t, run(t, e, bad, ""), "not of the form module.function")
}

func TestEngine_NodeBoundEvictsIdle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkers, cfg.MaxWorkersPerFunction = 1, 1
	e := newTestEngine(t, cfg)
	a := codeOf(t, "a", "", map[string]string{"main.js": `let n = 0; exports.main = () => 'a' + (++n)`})
	b := codeOf(t, "b", "", map[string]string{"main.js": `exports.main = () => 'b'`})
	wantOutput(t, run(t, e, a, ""), true, `"a1"`)
	wantOutput(t, run(t, e, b, ""), true, `"b"`) // evicts a's idle runtime
	wantOutput(t, run(t, e, a, ""), true, `"a1"`)
	if p := e.Pool(); p.Available != 0 {
		t.Errorf("pool = %+v", p)
	}
}

func TestRun_WaitBoundedByContext(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkers, cfg.MaxWorkersPerFunction = 1, 1
	e := newTestEngine(t, cfg)
	code := codeOf(t, "fn", "", map[string]string{"main.js": `
exports.main = (ctx, input) => input.wait ? new Promise(r => setTimeout(r, 300, 'slow')) : 'quick'`})
	done := make(chan qinling.Result)
	go func() {
		res, _ := e.Run(context.Background(), code, qinling.Invocation{ExecutionID: "slow", Input: json.RawMessage(`{"wait": true}`)})
		done <- res
	}()
	waitFor(t, 5*time.Second, func() bool { return e.Pool().Available == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.Run(ctx, code, qinling.Invocation{ExecutionID: "x"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run while every runtime is busy: err = %v, want the context's", err)
	}
	wantOutput(t, <-done, true, `"slow"`)
	wantOutput(t, run(t, e, code, `{"wait": false}`), true, `"quick"`)
}

func TestRun_BadPackages(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	good := map[string]string{"main.js": `exports.main = () => 1; exports.notfn = 3;`}
	cases := []struct {
		name  string
		code  qinling.Code
		fault string
	}{
		{"not a zip", qinling.Code{FunctionID: "f1", Package: []byte("not a zip at all"), Timeout: time.Second},
			"the function package is not a valid zip archive"},
		{"no package", qinling.Code{FunctionID: "f2", Timeout: time.Second}, "the function has no package"},
		{"missing module", codeOf(t, "f3", "nope.main", good), "Cannot find module 'nope'"},
		{"missing function", codeOf(t, "f4", "main.handler", good), "module 'main' has no function 'handler'"},
		{"not a function", codeOf(t, "f5", "main.notfn", good), "has no function 'notfn'"},
		{"bad entry", codeOf(t, "f6", "main", good), `entry "main" is not of the form module.function`},
		{"syntax error", codeOf(t, "f7", "", map[string]string{"main.js": `exports.main = () => {`}), "SyntaxError"},
		{"module throws", codeOf(t, "f8", "", map[string]string{"main.js": `throw new Error('at load')`}), "Error: at load"},
		{"traversal", qinling.Code{FunctionID: "f9", Package: testzip.Of(map[string]string{"../evil.js": "x"}), Timeout: time.Second},
			"has a path outside the package"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, e, c.code, "")
			wantFailure(t, res, c.fault)
			if !strings.Contains(res.Log, c.fault) || !strings.HasPrefix(res.Log, "Start execution: exec-1\n") {
				t.Errorf("log = %q", res.Log)
			}
		})
	}
}

func TestReadPackage_Limits(t *testing.T) {
	files := map[string]string{"a.js": strings.Repeat("a", 600), "b.js": strings.Repeat("b", 600)}
	if _, err := readPackage(testzip.Of(files), 10, 1000); err == nil || !strings.Contains(err.Error(), "more than 1000 bytes") {
		t.Errorf("size limit: err = %v", err)
	}
	if _, err := readPackage(testzip.Of(files), 1, 1<<20); err == nil || !strings.Contains(err.Error(), "more than 1 files") {
		t.Errorf("file limit: err = %v", err)
	}
	got, err := readPackage(testzip.Of(map[string]string{"dir/./x.js": "x", "y.js": "y"}), 10, 1<<20)
	if err != nil || string(got["/dir/x.js"]) != "x" || string(got["/y.js"]) != "y" {
		t.Errorf("got %v, %v", got, err)
	}
	for _, name := range []string{"/abs.js", `dir\x.js`, "a/../../b.js"} {
		if _, err := readPackage(testzip.Of(map[string]string{name: "x"}), 10, 1<<20); err == nil {
			t.Errorf("%q: accepted", name)
		}
	}
}

func TestRun_Concurrent(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxWorkers, cfg.MaxWorkersPerFunction = 3, 2
	e := newTestEngine(t, cfg)
	codes := []qinling.Code{
		codeOf(t, "a", "", map[string]string{"main.js": `exports.main = (c, i) => ({who: 'a', n: i.n})`}),
		codeOf(t, "b", "", map[string]string{"main.js": `exports.main = async (c, i) => ({who: 'b', n: i.n})`}),
		codeOf(t, "c", "", map[string]string{"main.js": `exports.main = (c, i) => new Promise(r => setTimeout(r, 1, {who: 'c', n: i.n}))`}),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				code := codes[(g+i)%len(codes)]
				res, err := e.Run(context.Background(), code, qinling.Invocation{
					ExecutionID: fmt.Sprint(g, "-", i), Input: json.RawMessage(fmt.Sprintf(`{"n": %d}`, i))})
				want := fmt.Sprintf(`{"who":%q,"n":%d}`, code.FunctionID, i)
				if err != nil || !res.Success || string(res.Output) != want {
					errs <- fmt.Errorf("run %d/%d: %v, %+v, want %s", g, i, err, res, want)
					return
				}
			}
		}()
		if g%2 == 1 {
			e.Scale(codes[0], g%3)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := e.Pool(); p.Total != 3 || p.Available < 0 || p.Available > 3 {
		t.Errorf("pool = %+v", p)
	}
}

func TestEngine_Close(t *testing.T) {
	e := newTestEngine(t, DefaultConfig())
	code := codeOf(t, "fn", "", map[string]string{"main.js": `exports.main = (c, i) => { if (i && i.loop) while (true) {} return 1; }`})
	wantOutput(t, run(t, e, code, ""), true, `1`)
	done := make(chan qinling.Result)
	go func() {
		res, _ := e.Run(context.Background(), code, qinling.Invocation{Input: json.RawMessage(`{"loop": true}`)})
		done <- res
	}()
	waitFor(t, 5*time.Second, func() bool { return e.busyCount() > 0 })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	wantFailure(t, <-done, "engine closed")
	if _, err := e.Run(context.Background(), code, qinling.Invocation{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v", err)
	}
	if p := e.Pool(); p.Available != p.Total {
		t.Errorf("pool after Close = %+v", p)
	}
	if err := e.Available(); err != nil {
		t.Errorf("Available = %v", err)
	}
}

// busyCount is how many runtimes are running an execution.
func (e *Engine) busyCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.running)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConfig_Validate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero config (defaults apply): %v", err)
	}
	bad := Config{MaxWorkers: 2, MaxWorkersPerFunction: 3, DefaultWarm: -1, MaxLogBytes: -1}
	err := bad.Validate()
	for _, want := range []string{"MaxWorkersPerFunction must not exceed MaxWorkers", "DefaultWarm must not be negative", "must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want it to say %q", bad, err, want)
		}
	}
	// New brings such values within bounds rather than failing.
	e := newTestEngineUnchecked(t, bad)
	if p := e.Pool(); p.Total != 2 {
		t.Errorf("pool = %+v", p)
	}
}

// newTestEngineUnchecked is newTestEngine without Validate.
func newTestEngineUnchecked(t testing.TB, cfg Config) *Engine {
	cfg.Logger = slog.New(slog.NewTextHandler(testlog.New(t), nil))
	e := New(cfg)
	t.Cleanup(func() { e.Close() })
	return e
}
