package qinling

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"eventide/consensus"
	"eventide/internal/testlog"
)

// testEngine is an Engine that echoes: output {"echo": input}, the log
// "ran <id>". Input {"fail": true} fails the function; {"block": true}
// blocks until release is closed or the context ends.
type testEngine struct {
	mu       sync.Mutex
	runs     []Invocation
	codes    []Code
	workers  map[string]int
	detached []string
	scaled   []Code // the code of each Scale
	unavail  error
	release  chan struct{}
	started  chan string
}

func newTestEngine() *testEngine {
	return &testEngine{workers: map[string]int{}, release: make(chan struct{}), started: make(chan string, 100)}
}

func (e *testEngine) Run(ctx context.Context, code Code, inv Invocation) (Result, error) {
	e.mu.Lock()
	e.runs = append(e.runs, inv)
	e.codes = append(e.codes, code)
	e.mu.Unlock()
	var in struct{ Fail, Block bool }
	_ = json.Unmarshal(inv.Input, &in)
	if in.Block {
		e.started <- inv.ExecutionID
		select {
		case <-e.release:
		case <-ctx.Done():
			return Result{Success: false, Output: json.RawMessage(`"interrupted"`), Log: "interrupted\n"}, nil
		}
	}
	if in.Fail {
		return Result{Success: false, Output: json.RawMessage(`"boom"`), Log: "failing\n", Duration: 2 * time.Millisecond}, nil
	}
	out, _ := json.Marshal(map[string]json.RawMessage{"echo": orNull(inv.Input)})
	return Result{Success: true, Output: out, Log: "ran " + inv.ExecutionID + "\n", Duration: 44 * time.Millisecond}, nil
}

func orNull(b json.RawMessage) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

func (e *testEngine) Scale(code Code, n int) {
	e.mu.Lock()
	e.workers[code.FunctionID] = n
	e.scaled = append(e.scaled, code)
	e.mu.Unlock()
}

// Workers names the latest code's scale as workers w0, w1, ...
func (e *testEngine) Workers(id string, version int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if version != 0 {
		return nil
	}
	var names []string
	for i := range e.workers[id] {
		names = append(names, fmt.Sprintf("w%d", i))
	}
	return names
}

func (e *testEngine) Detach(id string) {
	e.mu.Lock()
	e.detached = append(e.detached, id)
	delete(e.workers, id)
	e.mu.Unlock()
}
func (e *testEngine) Pool() PoolInfo   { return PoolInfo{Total: 4, Available: 3} }
func (e *testEngine) Available() error { e.mu.Lock(); defer e.mu.Unlock(); return e.unavail }
func (e *testEngine) Close() error     { return nil }

func (e *testEngine) runCount() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.runs) }

// harness is a Service on a single-node Raft store with a test engine for
// images containing "nodejs" or "python".
type harness struct {
	t      testing.TB
	store  *consensus.Store
	svc    *Service
	engine *testEngine
	clock  *clock
	cfg    Config
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

var (
	admin = Caller{ProjectID: "admin-project", Admin: true}
	alice = Caller{ProjectID: "project-a"}
	bob   = Caller{ProjectID: "project-b"}
)

func newHarness(t testing.TB, mod ...func(*Config)) *harness {
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
	h := &harness{t: t, store: store, engine: newTestEngine(), clock: &clock{now: time.Date(2019, 6, 6, 23, 13, 37, 0, time.UTC)}}
	cfg := Config{
		NodeID:  "n1",
		Records: store,
		Engines: func(image string) Engine {
			if strings.Contains(image, "nodejs") || strings.Contains(image, "python") {
				return h.engine
			}
			return nil
		},
		WebhookBaseURL: "http://127.0.0.1:7070/",
		Logger:         logger,
		Now:            h.clock.Now,
	}
	for _, m := range mod {
		m(&cfg)
	}
	h.cfg = cfg
	h.svc, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.svc.Close() })
	return h
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// mustRuntime creates a public Node.js runtime as the administrator.
func (h *harness) mustRuntime() Runtime {
	h.t.Helper()
	rt, err := h.svc.CreateRuntime(ctxT(h.t), admin, RuntimeSpec{Name: "nodejs", Image: "openstackqinling/nodejs-runtime"})
	if err != nil {
		h.t.Fatal(err)
	}
	return rt
}

// mustFunction creates a package function of c on runtime rt.
func (h *harness) mustFunction(c Caller, rt Runtime, pkg []byte) Function {
	h.t.Helper()
	f, err := h.svc.CreateFunction(ctxT(h.t), c, FunctionSpec{
		Name: "hello", RuntimeID: rt.ID, Entry: "hello.main",
		Code: FunctionCode{Source: SourcePackage, MD5Sum: md5hex(pkg)}, Package: pkg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return f
}

// wantStatus fails unless err is an *Error with status.
func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != status {
		t.Fatalf("error %v, want status %d", err, status)
	}
}

func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
