package handler

import (
	"context"
	"errors"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"
)

// An invocation that keeps allocating is stopped once it has added its
// budget to the live heap, long before its execution timeout; it is counted
// and logged, and the next invocation runs in a fresh runtime with the
// memory returned.
func TestMemoryGuard_StopsARunawayInvocation(t *testing.T) {
	g := NewMemoryGuard(5 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.Run(ctx)
	const budget = 64 << 20
	h := newHarness(t, `function kept() { return kept.list || (kept.list = []); }
function OnUpdate(doc, meta) {
  if (doc.bomb) { while (true) kept().push('x'.repeat(1 << 20) + kept().length); }
  dst[meta.id] = {kept: kept().length};
}`, harnessOpts{settings: Settings{ExecutionTimeout: time.Minute, MemoryBudget: budget}, memory: g})
	runtime.GC()
	before := liveHeap()
	err := h.handle(mutation("bomb", `{"bomb": true}`))
	var ie *InvocationError
	if !errors.As(err, &ie) || !errors.Is(err, ErrMemoryBudget) || ie.Line != 3 {
		t.Fatalf("Handle = %v, want the memory budget exceeded at line 3", err)
	}
	h.wantStat("memory_budget_exceeded_count", 1)
	h.wantStat("on_update_failure", 1)
	if logs := strings.Join(h.logMessages(), "\n"); !strings.Contains(logs, `(key "bomb")`) || !strings.Contains(logs, "memory budget of 64 MiB exceeded") {
		t.Errorf("app log: %s", logs)
	}
	// The global the bomb filled went with its runtime.
	h.mustHandle(mutation("next", `{}`))
	wantFields(t, h.result("next"), map[string]any{"kept": 0})
	runtime.GC()
	if after := liveHeap(); after > before+budget/2 {
		t.Errorf("live heap %d MiB after the next invocation, %d MiB before the bomb", after>>20, before>>20)
	}
}

// liveHeap is the heap that survived the last collection, as the guard
// reads it.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
