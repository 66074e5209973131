package containers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"eventide/internal/testlog"
	"eventide/qinling"
	"eventide/qinling/containers/containerstest"

	"log/slog"
)

var seq atomic.Int64

func newEngine(t *testing.T) *Engine {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Host = containerstest.Host()
	cfg.Logger = slog.New(slog.NewTextHandler(testlog.New(t), nil))
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	// Docker is required: an unreachable daemon fails the test.
	if err := e.Available(); err != nil {
		t.Fatalf("Docker is required for these tests: %v", err)
	}
	return e
}

func codeOf(image string, timeout time.Duration) qinling.Code {
	return qinling.Code{
		FunctionID: "fn-" + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "") + "-" + string(rune('a'+seq.Add(1)%26)),
		Image:      image, Timeout: timeout, MemoryBytes: 64 << 20, CPUMillis: 500,
	}
}

func run(t *testing.T, e *Engine, code qinling.Code, input string) qinling.Result {
	t.Helper()
	var in json.RawMessage
	if input != "" {
		in = json.RawMessage(input)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.Run(ctx, code, qinling.Invocation{ExecutionID: "ex-1", ProjectID: "p", Input: in})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// containersOf lists every container (running or not) of a function, by
// the label the engine sets.
func containersOf(t *testing.T, e *Engine, functionID string) []string {
	t.Helper()
	filters, _ := json.Marshal(map[string][]string{"label": {LabelFunction + "=" + functionID}})
	var list []struct{ Id string }
	if _, err := e.call(context.Background(), http.MethodGet, "/containers/json?all=1&filters="+url.QueryEscape(string(filters)), nil, &list); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(list))
	for _, c := range list {
		ids = append(ids, c.Id)
	}
	return ids
}

func TestEngine(t *testing.T) {
	e := newEngine(t)
	image := containerstest.BuildImage(t)

	t.Run("output and input as arguments", func(t *testing.T) {
		code := codeOf(image, 30*time.Second)
		res := run(t, e, code, `{"name":"x y","n":3,"stderr":"hello from stderr"}`)
		if !res.Success {
			t.Fatalf("run failed: %s\n%s", res.Output, res.Log)
		}
		if got, want := string(res.Output), `["--n=3","--name=x y","--stderr=hello from stderr"]`; got != want {
			t.Errorf("output %s, want %s", got, want)
		}
		if want := "Start execution: ex-1\nhello from stderr\nFinished execution: ex-1\n"; res.Log != want {
			t.Errorf("log %q, want %q", res.Log, want)
		}
		if res.Duration <= 0 {
			t.Errorf("duration %s, want > 0", res.Duration)
		}
		if left := containersOf(t, e, code.FunctionID); len(left) != 0 {
			t.Errorf("containers left after the run: %v", left)
		}
		// Plain text splits on white space; an array is its elements.
		if res := run(t, e, code, `"a  b c"`); string(res.Output) != `["a","b","c"]` {
			t.Errorf("text input: output %s", res.Output)
		}
		if res := run(t, e, code, `["one two",2,{"k":1}]`); string(res.Output) != `["one two","2","{\"k\":1}"]` {
			t.Errorf("array input: output %s", res.Output)
		}
		// No input: no arguments.
		if res := run(t, e, code, ``); string(res.Output) != `[]` {
			t.Errorf("no input: output %s", res.Output)
		}
		// Output that is not JSON is a JSON string.
		if res := run(t, e, code, `["--raw=plain text"]`); !res.Success || string(res.Output) != `"plain text"` {
			t.Errorf("raw output: %+v", res)
		}
	})

	t.Run("a non-zero exit fails", func(t *testing.T) {
		res := run(t, e, codeOf(image, 30*time.Second), `{"exit":3,"stderr":"bad"}`)
		if res.Success || string(res.Output) != `"Function exited with status 3."` || !strings.Contains(res.Log, "bad\n") {
			t.Fatalf("exit 3: %+v", res)
		}
	})

	t.Run("memory limit", func(t *testing.T) {
		code := codeOf(image, 30*time.Second)
		code.MemoryBytes = 16 << 20
		res := run(t, e, code, `{"alloc":64}`)
		if res.Success || !strings.Contains(string(res.Output), "memory limit") {
			t.Fatalf("64 MiB in a 16 MiB container: %+v", res)
		}
		if res := run(t, e, code, `{"alloc":2}`); !res.Success {
			t.Fatalf("2 MiB in a 16 MiB container: %+v", res)
		}
	})

	t.Run("timeout kills and removes", func(t *testing.T) {
		code := codeOf(image, time.Second)
		start := time.Now()
		res := run(t, e, code, `{"sleep":30}`)
		if res.Success || string(res.Output) != `"Function execution timeout."` || res.Duration != time.Second {
			t.Fatalf("sleeping past the timeout: %+v", res)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("the timed-out run took %s", took)
		}
		if left := containersOf(t, e, code.FunctionID); len(left) != 0 {
			t.Errorf("containers left after a timeout: %v", left)
		}
	})

	t.Run("missing image", func(t *testing.T) {
		code := codeOf("eventide-test-missing:nope", 5*time.Second)
		res := run(t, e, code, `{}`)
		if res.Success || !strings.Contains(string(res.Output), "eventide-test-missing:nope is not on this node") {
			t.Fatalf("missing image: %+v", res)
		}
	})

	t.Run("close interrupts a run", func(t *testing.T) {
		cfg := e.cfg
		e2, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		code := codeOf(image, time.Minute)
		done := make(chan error, 1)
		go func() {
			_, err := e2.Run(context.Background(), code, qinling.Invocation{ExecutionID: "ex-2", Input: json.RawMessage(`{"sleep":60}`)})
			done <- err
		}()
		deadline := time.Now().Add(20 * time.Second)
		for len(containersOf(t, e, code.FunctionID)) == 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if e2.Pool().Available != e2.Pool().Total-1 {
			t.Errorf("pool during a run %+v, want one slot taken", e2.Pool())
		}
		_ = e2.Close()
		if err := <-done; err == nil {
			t.Fatal("a run interrupted by Close returned no error")
		}
		if left := containersOf(t, e, code.FunctionID); len(left) != 0 {
			t.Errorf("containers left after Close: %v", left)
		}
		if _, err := e2.Run(context.Background(), code, qinling.Invocation{ExecutionID: "ex-3"}); err != ErrClosed {
			t.Errorf("Run after Close: %v, want ErrClosed", err)
		}
	})
}

func TestAvailable_BadHost(t *testing.T) {
	for _, host := range []string{"unix:///nonexistent/docker.sock", "tcp://127.0.0.1:1"} {
		cfg := DefaultConfig()
		cfg.Host = host
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = e.Available()
		if err == nil || !strings.Contains(err.Error(), host) {
			t.Errorf("Available at %s: %v, want an error naming the host", host, err)
		}
		_ = e.Close()
	}
}

func TestConfig_Validate(t *testing.T) {
	for _, host := range []string{"", "http://x:1", "unix://", "tcp://nohost"} {
		if _, err := New(Config{Host: host}); err == nil {
			t.Errorf("New with host %q succeeded", host)
		}
	}
	if _, err := New(Config{Host: "tcp://127.0.0.1:2375", MaxConcurrent: -1}); err == nil {
		t.Error("a negative MaxConcurrent was accepted")
	}
}

func TestArgs(t *testing.T) {
	for in, want := range map[string]string{
		``:                    `[]`,
		`null`:                `[]`,
		`"  "`:                `[]`,
		`{"b":"x","a":[1,2]}`: `["--a=[1,2]","--b=x"]`,
		`42`:                  `["42"]`,
		`true`:                `["true"]`,
		`["a", null, 1.5]`:    `["a","null","1.5"]`,
	} {
		args, err := Args(json.RawMessage(in))
		if err != nil {
			t.Errorf("Args(%s): %v", in, err)
			continue
		}
		if args == nil {
			args = []string{}
		}
		got, _ := json.Marshal(args)
		if string(got) != want {
			t.Errorf("Args(%s) = %s, want %s", in, got, want)
		}
	}
	if _, err := Args(json.RawMessage(`{"a":`)); err == nil {
		t.Error("invalid JSON accepted")
	}
}
