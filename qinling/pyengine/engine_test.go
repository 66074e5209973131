package pyengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/internal/testlog"
	"eventide/internal/testzip"
	"eventide/qinling"
)

// mustNewEngine starts an engine that logs to t and closes with the test.
func mustNewEngine(t testing.TB, mutate func(*Config)) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.WorkDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(testlog.New(t), &slog.HandlerOptions{Level: slog.LevelDebug}))
	if mutate != nil {
		mutate(&cfg)
	}
	e := New(cfg)
	if err := e.Available(); err != nil {
		t.Fatalf("Available: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func code(fn, digest string, pkg []byte, entry string) qinling.Code {
	return qinling.Code{FunctionID: fn, Digest: digest, Package: pkg, Entry: entry, Timeout: 10 * time.Second}
}

func mustRun(t testing.TB, e *Engine, c qinling.Code, id, input string) qinling.Result {
	t.Helper()
	inv := qinling.Invocation{ExecutionID: id}
	if input != "" {
		inv.Input = json.RawMessage(input)
	}
	res, err := e.Run(context.Background(), c, inv)
	if err != nil {
		t.Fatalf("Run %s: %v", id, err)
	}
	return res
}

// jsonEq reports whether two JSON texts are the same value.
func jsonEq(t testing.TB, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("output %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Fatalf("output %s, want %s", got, want)
	}
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command's closing parenthesis.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const helloPy = `
def main(name, **kwargs):
    print("Hello,", name)
    return {"greeting": "Hello, %s" % name}
`

func TestRun_HelloWithKeywordArguments(t *testing.T) {
	e := mustNewEngine(t, nil)
	c := code("f1", "d1", testzip.Of(map[string]string{"hello.py": helloPy}), "hello.main")
	res := mustRun(t, e, c, "exec-1", `{"name": "World"}`)
	if !res.Success {
		t.Fatalf("failed: %s\n%s", res.Output, res.Log)
	}
	jsonEq(t, res.Output, `{"greeting": "Hello, World"}`)
	want := "Start execution: exec-1\nHello, World\nFinished execution: exec-1\n"
	if res.Log != want {
		t.Fatalf("log %q, want %q", res.Log, want)
	}
	if res.Duration <= 0 || res.Duration > 5*time.Second {
		t.Fatalf("duration %v", res.Duration)
	}
}

func TestRun_DefaultEntryIsMainMain(t *testing.T) {
	e := mustNewEngine(t, nil)
	c := code("f1", "d1", testzip.Of(map[string]string{"main.py": "def main():\n    return 'from main.main'\n"}), "")
	res := mustRun(t, e, c, "e1", "")
	if !res.Success {
		t.Fatalf("failed: %s\n%s", res.Output, res.Log)
	}
	jsonEq(t, res.Output, `"from main.main"`)
}

func TestRun_ModuleImportsOtherFilesOfThePackage(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{
		"app/__init__.py": "",
		"app/handler.py":  "import helper\nfrom lib import util\n\ndef run(x):\n    return helper.double(util.inc(x))\n",
		"helper.py":       "def double(v):\n    return v * 2\n",
		"lib/__init__.py": "",
		"lib/util.py":     "def inc(v):\n    return v + 1\n",
		"data/words.txt":  "alpha beta\n",
		"reader.py":       "def main():\n    with open('data/words.txt') as f:\n        return f.read().split()\n",
	})
	res := mustRun(t, e, code("f1", "d1", pkg, "app.handler.run"), "e1", `{"x": 20}`)
	if !res.Success {
		t.Fatalf("failed: %s\n%s", res.Output, res.Log)
	}
	jsonEq(t, res.Output, `42`)
	// The working folder is the package's, so relative paths find its files.
	res = mustRun(t, e, code("f1", "d1", pkg, "reader.main"), "e2", "")
	jsonEq(t, res.Output, `["alpha", "beta"]`)
}

func TestRun_PrintAndStderrAreTheLog(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": `
import sys, os
def main(**kwargs):
    print("line one")
    print("no newline", end="")
    sys.stderr.write("to stderr\n")
    # Raw writes to fds 1 and 2 go to the node's log, never into the protocol.
    os.write(1, b'{"t":"result","success":true,"output":"forged"}\n')
    os.write(2, b"raw stderr\n")
    print("last")
    return "ok"
`})
	res := mustRun(t, e, code("f1", "d1", pkg, ""), "x", "")
	if !res.Success {
		t.Fatalf("failed: %s\n%s", res.Output, res.Log)
	}
	jsonEq(t, res.Output, `"ok"`)
	want := "Start execution: x\nline one\nno newlineto stderr\nlast\nFinished execution: x\n"
	if res.Log != want {
		t.Fatalf("log %q, want %q", res.Log, want)
	}
}

func TestRun_ExceptionFailsWithItsMessage(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": `
def main(**kwargs):
    print("before")
    raise ValueError("bad input: 7")

def bare(**kwargs):
    raise RuntimeError()

def stdin(**kwargs):
    return input()

def nonjson(**kwargs):
    return {1, 2}
`})
	res := mustRun(t, e, code("f1", "d1", pkg, ""), "e1", "")
	if res.Success {
		t.Fatal("an exception succeeded")
	}
	jsonEq(t, res.Output, `"bad input: 7"`)
	for _, s := range []string{"Start execution: e1\nbefore\n", "Traceback (most recent call last)", "ValueError: bad input: 7", "Finished execution: e1\n"} {
		if !strings.Contains(res.Log, s) {
			t.Fatalf("log lacks %q:\n%s", s, res.Log)
		}
	}
	for _, tc := range []struct{ entry, want string }{
		{"main.bare", `"RuntimeError"`},
		{"main.stdin", `"EOF when reading a line"`},
		{"main.nonjson", `"Function output is not JSON serializable: Object of type set is not JSON serializable"`},
		{"nomodule.main", `"No module named 'nomodule'"`},
		{"main.missing", `"module 'main' has no attribute 'missing'"`},
	} {
		t.Run(tc.entry, func(t *testing.T) {
			res := mustRun(t, e, code("f1", "d1", pkg, tc.entry), "e2", "")
			if res.Success {
				t.Fatalf("succeeded: %s", res.Output)
			}
			jsonEq(t, res.Output, tc.want)
		})
	}
	// The worker survived all of it.
	if got := e.Pool(); got.Available != got.Total-1 {
		t.Fatalf("pool %+v, want one worker", got)
	}
}

func TestRun_TimeoutKillsAndNextRunWorks(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": `
import subprocess, sys
def loop(**kwargs):
    print("looping")
    # A child in the worker's process group dies with it.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    print("child", child.pid)
    while True:
        pass

def ok(**kwargs):
    return "fine"
`})
	c := code("f1", "d1", pkg, "main.loop")
	c.Timeout = 300 * time.Millisecond
	start := time.Now()
	res := mustRun(t, e, c, "e1", "")
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("timeout took %v", took)
	}
	if res.Success {
		t.Fatal("an infinite loop succeeded")
	}
	jsonEq(t, res.Output, `"Function execution timeout."`)
	if res.Duration < 300*time.Millisecond {
		t.Fatalf("duration %v, shorter than the timeout", res.Duration)
	}
	var child int
	if _, err := fmt.Sscanf(res.Log, "Start execution: e1\nlooping\nchild %d\n", &child); err != nil {
		t.Fatalf("log %q: %v", res.Log, err)
	}
	waitFor(t, 5*time.Second, "the function's child process to die", func() bool { return !running(child) })
	waitFor(t, 5*time.Second, "the killed worker to be dropped", func() bool { return e.Pool().Available == e.Pool().Total })

	c.Entry = "main.ok"
	res = mustRun(t, e, c, "e2", "")
	if !res.Success {
		t.Fatalf("run after a timeout failed: %s\n%s", res.Output, res.Log)
	}
	jsonEq(t, res.Output, `"fine"`)
}

func TestRun_MemoryLimitFailsCleanly(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": `
def big(**kwargs):
    b = bytearray(512 * 1024 * 1024)
    return len(b)

def grow(**kwargs):
    chunks = []
    while True:
        chunks.append(b"x" * (1024 * 1024))

def small(**kwargs):
    return len(bytearray(8 * 1024 * 1024))
`})
	for _, entry := range []string{"main.big", "main.grow"} {
		t.Run(entry, func(t *testing.T) {
			c := code("f1", "d1", pkg, entry)
			c.MemoryBytes = 64 << 20
			res := mustRun(t, e, c, "e1", "")
			if res.Success {
				t.Fatalf("a memory bomb succeeded: %s", res.Output)
			}
			jsonEq(t, res.Output, `"Function execution failed because of too much resource consumption"`)
			if !strings.HasPrefix(res.Log, "Start execution: e1\n") {
				t.Fatalf("log %q", res.Log)
			}
			// Within its budget the function still runs (on a fresh worker).
			c.Entry = "main.small"
			res = mustRun(t, e, c, "e2", "")
			if !res.Success {
				t.Fatalf("small run failed: %s\n%s", res.Output, res.Log)
			}
			jsonEq(t, res.Output, fmt.Sprint(8<<20))
		})
	}
}

func TestRun_WarmWorkerKeepsModuleStateUntilNewDigest(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": "count = 0\n\ndef main(**kwargs):\n    global count\n    count += 1\n    return count\n"})
	c := code("f1", "d1", pkg, "")
	for want := 1; want <= 3; want++ {
		jsonEq(t, mustRun(t, e, c, "e", "").Output, fmt.Sprint(want))
	}
	// Another version of the same function has its own workers.
	v1 := c
	v1.Version = 1
	jsonEq(t, mustRun(t, e, v1, "e", "").Output, "1")
	jsonEq(t, mustRun(t, e, c, "e", "").Output, "4")

	// New code (a new digest) retires the old workers and their state.
	c.Digest = "d2"
	c.Package = testzip.Of(map[string]string{"main.py": "count = 100\n\ndef main(**kwargs):\n    global count\n    count += 1\n    return count\n"})
	jsonEq(t, mustRun(t, e, c, "e", "").Output, "101")
	// So does a new memory size, with the same package.
	c.MemoryBytes = 128 << 20
	jsonEq(t, mustRun(t, e, c, "e", "").Output, "101")
	if got := e.Pool(); got.Total-got.Available != 2 {
		t.Fatalf("pool %+v, want 2 workers (one per version)", got)
	}
	entries, err := filepath.Glob(filepath.Join(e.cfg.WorkDir, "fn-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("unpacked folders %v, want the 2 in use", entries)
	}
}

func TestRun_InputShapes(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": `
def echo(*args, **kwargs):
    kwargs.pop("context", None)
    return {"args": list(args), "kwargs": kwargs}

def ctx(context, **kwargs):
    return context

def plain(name):
    return name
`})
	for _, tc := range []struct{ name, entry, input, want string }{
		{"object", "main.echo", `{"a": 1, "b": "x"}`, `{"args": [], "kwargs": {"a": 1, "b": "x"}}`},
		{"none", "main.echo", ``, `{"args": [], "kwargs": {}}`},
		{"null", "main.echo", `null`, `{"args": [], "kwargs": {}}`},
		{"string", "main.echo", `"hello"`, `{"args": ["hello"], "kwargs": {}}`},
		{"number", "main.echo", `7`, `{"args": [7], "kwargs": {}}`},
		{"zero", "main.echo", `0`, `{"args": [0], "kwargs": {}}`},
		{"list", "main.echo", `[1, 2]`, `{"args": [[1, 2]], "kwargs": {}}`},
		{"function input", "main.echo", `{"__function_input": "a b", "k": true}`, `{"args": ["a b"], "kwargs": {"k": true}}`},
		{"context", "main.ctx", `{"x": 1}`, `{"os_session": null}`},
		{"no context parameter", "main.plain", `{"name": "n"}`, `"n"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRun(t, e, code("f1", "d1", pkg, tc.entry), "e", tc.input)
			if !res.Success {
				t.Fatalf("failed: %s\n%s", res.Output, res.Log)
			}
			jsonEq(t, res.Output, tc.want)
		})
	}
	if _, err := e.Run(context.Background(), code("f1", "d1", pkg, "main.echo"), qinling.Invocation{Input: json.RawMessage(`{bad`)}); err == nil {
		t.Fatal("input that is not JSON ran")
	}
}

func TestNew_WithoutPythonRefusesPromptly(t *testing.T) {
	broken := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'python is broken' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, python, want string }{
		{"missing", "/nonexistent/bin/python3", "/nonexistent/bin/python3 not found"},
		{"fails probe", broken, "python is broken"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New(Config{Python: tc.python, WorkDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(testlog.New(t), nil))})
			defer e.Close()
			err := e.Available()
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Available = %v, want ErrUnavailable naming %q", err, tc.want)
			}
			start := time.Now()
			_, err = e.Run(context.Background(), code("f1", "d1", testzip.Of(map[string]string{"main.py": helloPy}), ""), qinling.Invocation{ExecutionID: "e"})
			if !errors.Is(err, ErrUnavailable) {
				t.Fatalf("Run = %v, want ErrUnavailable", err)
			}
			if took := time.Since(start); took > 100*time.Millisecond {
				t.Fatalf("Run took %v to refuse", took)
			}
			e.Scale(code("f1", "d1", testzip.Of(map[string]string{"main.py": helloPy}), ""), 2)
			e.Detach("f1")
			if got := e.Workers("f1", 0); got != nil {
				t.Fatalf("workers %v, want none", got)
			}
			if got := e.Pool(); got != (qinling.PoolInfo{}) {
				t.Fatalf("pool %+v, want none", got)
			}
		})
	}
}

func TestEngine_ScaleDetachAndPool(t *testing.T) {
	e := mustNewEngine(t, func(c *Config) { c.MaxWorkers = 6; c.MaxWorkersPerFunction = 3 })
	used := func() int { p := e.Pool(); return p.Total - p.Available }
	if got := e.Pool(); got != (qinling.PoolInfo{Total: 6, Available: 6}) {
		t.Fatalf("fresh pool %+v", got)
	}
	pkg := testzip.Of(map[string]string{"main.py": helloPy})
	c := code("f1", "d1", pkg, "")
	mustRun(t, e, c, "e1", `{"name": "a"}`)
	if used() != 1 {
		t.Fatalf("after a run %d workers, want 1", used())
	}
	e.Scale(c, 3)
	if used() != 3 || len(e.Workers("f1", 0)) != 3 {
		t.Fatalf("after Scale 3: %d workers, named %v", used(), e.Workers("f1", 0))
	}
	e.Scale(c, 10) // capped at MaxWorkersPerFunction
	if used() != 3 {
		t.Fatalf("after Scale 10: %d workers, want 3", used())
	}
	e.Scale(c, 1)
	if used() != 1 || len(e.Workers("f1", 0)) != 1 {
		t.Fatalf("after Scale 1: %d workers, named %v", used(), e.Workers("f1", 0))
	}
	// A function scaled before it ever runs starts its warm count now.
	c2 := code("f2", "d1", pkg, "")
	e.Scale(c2, 2)
	if used() != 3 {
		t.Fatalf("after scaling f2 before its first run: %d workers, want 3", used())
	}
	mustRun(t, e, c2, "e2", `{"name": "b"}`)
	if used() != 3 {
		t.Fatalf("f2's first run on a warm worker: %d workers, want 3", used())
	}

	e.Detach("f1")
	waitFor(t, 5*time.Second, "f1's workers to stop", func() bool { return used() == 2 })
	e.Detach("f2")
	waitFor(t, 5*time.Second, "f2's workers to stop", func() bool { return used() == 0 })
	entries, _ := filepath.Glob(filepath.Join(e.cfg.WorkDir, "fn-*"))
	if len(entries) != 0 {
		t.Fatalf("detached functions left folders %v", entries)
	}
	res := mustRun(t, e, c, "e3", `{"name": "again"}`)
	if !res.Success {
		t.Fatalf("run after detach failed: %s", res.Output)
	}
}

func TestEngine_ScaleBeforeFirstRun(t *testing.T) {
	e := mustNewEngine(t, func(c *Config) { c.MaxWorkers = 6; c.MaxWorkersPerFunction = 3 })
	c := code("f1", "d1", testzip.Of(map[string]string{"main.py": helloPy}), "")
	e.Scale(c, 2)
	names := e.Workers("f1", 0)
	if len(names) != 2 || !strings.HasPrefix(names[0], "pyworker-") {
		t.Fatalf("workers after Scale 2 before any run = %v, want 2 pyworker-<pid>", names)
	}
	for _, n := range names {
		pid, err := strconv.Atoi(strings.TrimPrefix(n, "pyworker-"))
		if err != nil || !running(pid) {
			t.Fatalf("worker %s is not a running process", n)
		}
	}
	// The first run is on a warm worker: none starts, the names stay.
	mustRun(t, e, c, "e1", "")
	if got := e.Workers("f1", 0); !slices.Equal(got, names) {
		t.Fatalf("workers after the first run = %v, want %v", got, names)
	}
	// New latest code scaled before it runs replaces the old workers.
	c2 := code("f1", "d2", testzip.Of(map[string]string{"main.py": helloPy}), "")
	e.Scale(c2, 3)
	waitFor(t, 5*time.Second, "only the new code's 3 workers", func() bool {
		p := e.Pool()
		return p.Total-p.Available == 3
	})
	if got := e.Workers("f1", 0); len(got) != 3 || slices.Contains(got, names[0]) || slices.Contains(got, names[1]) {
		t.Fatalf("workers after scaling new code = %v, want 3 new ones (old %v)", got, names)
	}
	// A bad entry makes no workers; Run refuses it.
	e.Scale(code("f3", "d1", testzip.Of(map[string]string{"main.py": helloPy}), "no entry"), 2)
	if got := e.Workers("f3", 0); got != nil {
		t.Fatalf("workers of a bad entry = %v", got)
	}
}

func TestEngine_IdleWorkersBeyondWarmCountStop(t *testing.T) {
	e := mustNewEngine(t, func(c *Config) { c.IdleTimeout = 200 * time.Millisecond })
	used := func() int { p := e.Pool(); return p.Total - p.Available }
	pkg := testzip.Of(map[string]string{"main.py": "import time\n\ndef main(**kwargs):\n    time.sleep(1.5)\n    return 1\n"})
	c := code("f1", "d1", pkg, "")
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustRun(t, e, c, fmt.Sprint("e", i), "")
		}()
	}
	waitFor(t, 5*time.Second, "3 concurrent runs on 3 workers", func() bool { return used() == 3 })
	wg.Wait()
	waitFor(t, 5*time.Second, "idle workers beyond the warm count to stop", func() bool { return used() == 1 })
	time.Sleep(500 * time.Millisecond) // the warm one must outlive IdleTimeout
	if used() != 1 {
		t.Fatalf("%d workers, want the warm one", used())
	}
}

func TestEngine_FullNodeEvictsAnotherFunctionsIdleWorker(t *testing.T) {
	e := mustNewEngine(t, func(c *Config) { c.MaxWorkers = 1; c.MaxWorkersPerFunction = 1 })
	pkg := testzip.Of(map[string]string{"main.py": helloPy})
	for i, fn := range []string{"f1", "f2", "f1"} {
		res := mustRun(t, e, code(fn, "d1", pkg, ""), fmt.Sprint("e", i), `{"name": "x"}`)
		if !res.Success {
			t.Fatalf("run %d of %s failed: %s", i, fn, res.Output)
		}
	}
	if got := e.Pool(); got.Available != 0 {
		t.Fatalf("pool %+v", got)
	}
}

func TestRun_ConcurrentExecutions(t *testing.T) {
	e := mustNewEngine(t, func(c *Config) { c.MaxWorkersPerFunction = 2; c.MaxWorkers = 3 })
	pkg := testzip.Of(map[string]string{"main.py": "def main(n, **kwargs):\n    print('n is', n)\n    return n * n\n"})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := code(fmt.Sprint("f", g%3), "d1", pkg, "")
			for i := range 5 {
				n := g*10 + i
				id := fmt.Sprintf("e-%d-%d", g, i)
				res, err := e.Run(context.Background(), c, qinling.Invocation{ExecutionID: id, Input: json.RawMessage(fmt.Sprintf(`{"n": %d}`, n))})
				switch {
				case err != nil:
					errs <- err
				case !res.Success || string(res.Output) != fmt.Sprint(n*n):
					errs <- fmt.Errorf("%s: %v %s", id, res.Success, res.Output)
				case res.Log != fmt.Sprintf("Start execution: %s\nn is %d\nFinished execution: %s\n", id, n, id):
					errs <- fmt.Errorf("%s: log %q", id, res.Log)
				}
				if p := e.Pool(); p.Available < 0 || p.Total-p.Available > 3 {
					errs <- fmt.Errorf("pool %+v beyond MaxWorkers", p)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestRun_RefusesBadCode(t *testing.T) {
	e := mustNewEngine(t, nil)
	for _, tc := range []struct {
		name string
		code qinling.Code
		want error
	}{
		{"not a zip", code("f1", "d1", []byte("not a zip"), ""), ErrBadPackage},
		{"path traversal", code("f2", "d1", testzip.Of(map[string]string{"../evil.py": "x = 1"}), ""), ErrBadPackage},
		{"entry without function", code("f3", "d1", testzip.Of(map[string]string{"main.py": helloPy}), "main"), ErrBadEntry},
		{"entry with a path", code("f3", "d1", testzip.Of(map[string]string{"main.py": helloPy}), "../x.main"), ErrBadEntry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Run(context.Background(), tc.code, qinling.Invocation{ExecutionID: "e"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(e.cfg.WorkDir, "evil.py")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("traversal wrote outside its folder: %v", err)
	}
	if got := e.Pool(); got.Available != got.Total {
		t.Fatalf("refused code holds workers: %+v", got)
	}
}

func TestRun_CancelAndCloseStopABusyWorker(t *testing.T) {
	e := mustNewEngine(t, nil)
	pkg := testzip.Of(map[string]string{"main.py": "def main(marker=None, **kwargs):\n    if marker:\n        open(marker, 'w').close()\n    while True:\n        pass\n"})
	c := code("f1", "d1", pkg, "")
	c.Timeout = time.Minute

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := e.Run(ctx, c, qinling.Invocation{ExecutionID: "e1"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v, want the context's error", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("cancel took %v", took)
	}

	marker := filepath.Join(t.TempDir(), "started")
	input, _ := json.Marshal(map[string]string{"marker": marker})
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(context.Background(), c, qinling.Invocation{ExecutionID: "e2", Input: input})
		done <- err
	}()
	waitFor(t, 5*time.Second, "the function to start", func() bool { _, err := os.Stat(marker); return err == nil })
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Run during Close = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a run hanging")
	}
	if _, err := e.Run(context.Background(), c, qinling.Invocation{ExecutionID: "e3"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v", err)
	}
}

func BenchmarkRunHello(b *testing.B) {
	e := mustNewEngine(b, func(c *Config) { c.Logger = slog.New(slog.DiscardHandler) })
	c := code("bench", "d1", testzip.Of(map[string]string{"hello.py": helloPy}), "hello.main")
	inv := qinling.Invocation{ExecutionID: "bench", Input: json.RawMessage(`{"name": "bench"}`)}
	if res, err := e.Run(context.Background(), c, inv); err != nil || !res.Success {
		b.Fatalf("warm-up: %v %s", err, res.Output)
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		t0 := time.Now()
		res, err := e.Run(context.Background(), c, inv)
		lat = append(lat, time.Since(t0))
		if err != nil || !res.Success {
			b.Fatalf("run: %v %s", err, res.Output)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
	b.ReportMetric(ms(lat[(len(lat)*99)/100]), "p99_ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
}
