package handler

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func (h *harness) onDeploy(reason string, delay time.Duration) error {
	h.t.Helper()
	return h.w.OnDeploy(context.Background(), reason, delay, h.store)
}

func TestOnDeploy_Success(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function OnDeploy(action) {
  dst['action-' + action.reason] = {reason: action.reason, delay: action.delay, delayType: typeof action.delay,
    keys: Object.keys(action).join(',')};
  createTimer(Cb, new Date(1000), 'from-deploy', {reason: action.reason});
}
function Cb() {}`, harnessOpts{})
	if err := h.onDeploy(DeployReasonDeploy, 0); err != nil {
		t.Fatalf("OnDeploy(Deploy): %v", err)
	}
	if err := h.onDeploy(DeployReasonResume, 1500*time.Millisecond+999*time.Microsecond); err != nil {
		t.Fatalf("OnDeploy(Resume): %v", err)
	}
	wantFields(t, h.result("action-Deploy"), map[string]any{"reason": "Deploy", "delay": 0, "delayType": "number", "keys": "reason,delay"})
	wantFields(t, h.result("action-Resume"), map[string]any{"reason": "Resume", "delay": 1500, "delayType": "number"})
	if tm, ok := h.store.timer("Cb", "from-deploy"); !ok || string(tm.Context) != `{"reason":"Resume"}` {
		t.Errorf("timer created in OnDeploy = %+v (found %v)", tm, ok)
	}
	h.wantStats(map[string]uint64{"timer_create_counter": 2, "on_update_success": 0, "timeout_count": 0})
	if lines := h.logLines(); len(lines) != 0 {
		t.Errorf("app log = %q", lines)
	}
}

func TestOnDeploy_Throw(t *testing.T) {
	h := newHarness(t, "function OnUpdate(doc, meta) { dst[meta.id] = 1; }\nfunction OnDeploy(action) {\n  throw new Error('not ready: ' + action.reason);\n}", harnessOpts{})
	err := h.onDeploy(DeployReasonDeploy, 0)
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrException) {
		t.Fatalf("OnDeploy = %v, want an exception", err)
	}
	if ie.Entry != "OnDeploy" || ie.Key != "" || ie.Line != 3 || ie.Message != "Error: not ready: Deploy" {
		t.Errorf("exception = %+v", ie)
	}
	lines := h.logMessages()
	if len(lines) != 1 || lines[0] != "[ERROR] OnDeploy failed, the function will be undeployed: uncaught exception at line 3, column 9: Error: not ready: Deploy" {
		t.Errorf("app log = %q", lines)
	}
	// The worker still works (the caller decides to undeploy).
	h.mustHandle(mutation("after", `{}`))
	if _, ok := h.store.doc(dstKS, "after"); !ok {
		t.Error("worker unusable after a failed OnDeploy")
	}
}

func TestOnDeploy_TimeoutIsOnDeployTimeout(t *testing.T) {
	// OnDeploy outlives execution_timeout: only on_deploy_timeout bounds it.
	h := newHarness(t, `function OnUpdate(doc, meta) {
  var end = Date.now() + doc.ms;
  while (Date.now() < end) {}
  dst[meta.id] = 'done';
}
function OnDeploy(action) {
  var end = Date.now() + 300;
  while (Date.now() < end) {}
  dst['deployed'] = action.reason;
}`, harnessOpts{settings: Settings{ExecutionTimeout: 50 * time.Millisecond, OnDeployTimeout: 10 * time.Second}})
	if err := h.onDeploy(DeployReasonDeploy, 0); err != nil {
		t.Fatalf("OnDeploy = %v, want success under on_deploy_timeout", err)
	}
	if _, ok := h.store.doc(dstKS, "deployed"); !ok {
		t.Error("OnDeploy did not finish")
	}
	// Events are still bounded by execution_timeout.
	if err := h.handle(mutation("slow", `{"ms": 300}`)); !errors.Is(err, ErrTimeout) {
		t.Errorf("Handle after OnDeploy = %v, want the execution timeout", err)
	}

	// And an OnDeploy that never ends is stopped by on_deploy_timeout, not
	// by the (long) execution timeout; the execution timeout is restored.
	h2 := newHarness(t, `function OnUpdate(doc, meta) {
  var end = Date.now() + doc.ms;
  while (Date.now() < end) {}
  dst[meta.id] = 'done';
}
function OnDeploy(action) {
  while (true) {}
}`, harnessOpts{settings: Settings{ExecutionTimeout: 30 * time.Second, OnDeployTimeout: 100 * time.Millisecond}})
	err := h2.onDeploy(DeployReasonResume, time.Second)
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrTimeout) || ie.Entry != "OnDeploy" || ie.Message != "on_deploy_timeout of 100ms exceeded" {
		t.Fatalf("OnDeploy = %+v, want an on_deploy_timeout", err)
	}
	lines := h2.logMessages()
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "[ERROR] OnDeploy failed, the function will be undeployed: execution timeout at line ") ||
		!strings.HasSuffix(lines[0], "on_deploy_timeout of 100ms exceeded") {
		t.Errorf("app log = %q", lines)
	}
	h2.wantStats(map[string]uint64{"timeout_count": 1})
	h2.mustHandle(mutation("slow", `{"ms": 300}`))
	if _, ok := h2.store.doc(dstKS, "slow"); !ok {
		t.Error("event after OnDeploy was bounded by on_deploy_timeout")
	}
}

func TestOnDeploy_InvalidCalls(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function OnDeploy(action) { dst['ran'] = 1; }`, harnessOpts{})
	for _, reason := range []string{"", "deploy", "Pause", "Resume "} {
		if err := h.onDeploy(reason, 0); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("reason %q: %v, want ErrInvalidEvent", reason, err)
		}
	}
	if err := h.onDeploy(DeployReasonResume, -time.Second); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("negative delay: %v", err)
	}
	if err := h.w.OnDeploy(context.Background(), DeployReasonDeploy, 0, nil); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("nil store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.w.OnDeploy(ctx, DeployReasonDeploy, 0, h.store); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
	if _, ok := h.store.doc(dstKS, "ran"); ok {
		t.Error("OnDeploy ran")
	}
	if lines := h.logLines(); len(lines) != 0 {
		t.Errorf("app log = %q", lines)
	}
	h.w.Close()
	if err := h.onDeploy(DeployReasonDeploy, 0); !errors.Is(err, ErrWorkerClosed) {
		t.Errorf("closed worker: %v", err)
	}
}

func TestOnDeploy_ContextCancelIsNotAFailure(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}
function OnDeploy(action) { while (true) {} }`, harnessOpts{})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err := h.w.OnDeploy(ctx, DeployReasonDeploy, 0, h.store)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("OnDeploy = %v, want context.Canceled", err)
	}
	if lines := h.logLines(); len(lines) != 0 {
		t.Errorf("app log = %q", lines)
	}
	h.wantStats(map[string]uint64{"timeout_count": 0})
}

func TestOnDeploy_WithoutOnDeployIsNoOp(t *testing.T) {
	h := newHarness(t, `function OnUpdate(doc, meta) {}`, harnessOpts{})
	if err := h.onDeploy(DeployReasonDeploy, 0); err != nil {
		t.Errorf("OnDeploy without OnDeploy = %v", err)
	}
	if len(h.store.ops) != 0 {
		t.Errorf("store ops = %q", h.store.ops)
	}
}

func TestProgram_HasOnDeploy(t *testing.T) {
	cases := []struct {
		name, code string
		want       bool
	}{
		{"declared", "function OnUpdate(doc, meta) {}\nfunction OnDeploy(action) {}", true},
		{"only OnDelete and OnDeploy", "function OnDelete(meta) {}\nfunction OnDeploy(action) {}", true},
		{"absent", "function OnUpdate(doc, meta) {}", false},
		{"inner function", "function OnUpdate(doc, meta) { function OnDeploy(action) {} }", false},
		{"in a comment", "function OnUpdate(doc, meta) {}\n// function OnDeploy(action) {}", false},
		{"in a string", "function OnUpdate(doc, meta) { log('function OnDeploy(action) {}'); }", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, c.code, harnessOpts{})
			if got := p.HasOnDeploy(); got != c.want {
				t.Errorf("HasOnDeploy = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSettings_OnDeployTimeoutAndTimerContextSize(t *testing.T) {
	d := DefaultSettings()
	if d.OnDeployTimeout != 60*time.Second || d.TimerContextSize != 1024 {
		t.Errorf("defaults = %s, %d", d.OnDeployTimeout, d.TimerContextSize)
	}
	p := mustCompile(t, `function OnUpdate(doc, meta) {}`, harnessOpts{})
	if s := p.Settings(); s.OnDeployTimeout != DefaultOnDeployTimeout || s.TimerContextSize != DefaultTimerContextSize {
		t.Errorf("program settings = %s, %d", s.OnDeployTimeout, s.TimerContextSize)
	}
	valid := []Settings{{TimerContextSize: MinTimerContextSize}, {TimerContextSize: MaxTimerContextSize}, {OnDeployTimeout: time.Second}}
	for _, s := range valid {
		if err := s.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", s, err)
		}
	}
	invalid := []Settings{{TimerContextSize: 19}, {TimerContextSize: 20971521}, {TimerContextSize: -1}, {OnDeployTimeout: -time.Second}}
	for _, s := range invalid {
		err := s.Validate()
		if !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("Validate(on_deploy_timeout %s, timer_context_size %d) = %v, want ErrInvalidSettings", s.OnDeployTimeout, s.TimerContextSize, err)
		}
		if _, err := Compile(`function OnUpdate(doc, meta) {}`, s, nil, nil); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("Compile accepted %+v: %v", s, err)
		}
		p := mustCompile(t, `function OnUpdate(doc, meta) {}`, harnessOpts{})
		if _, err := NewWorker(p, Config{Settings: s}); !errors.Is(err, ErrInvalidSettings) {
			t.Errorf("NewWorker accepted %+v: %v", s, err)
		}
	}
}
