package e2e

import (
	"strings"
	"testing"
	"time"
)

// An invocation whose writes cannot fit one replicated command (17 values
// of 4 MiB, over the 64 MiB limit) fails clearly — counted, logged with its
// key, its writes dropped — and never stalls its function: the events
// batched with it and every later mutation are handled.
func TestRobust_TooLargeInvocationFailsWithoutStalling(t *testing.T) {
	_, c := newNode(t, "src", "dst", "meta")
	c.deployNew(fnSpec{name: "big", code: `function OnUpdate(doc, meta) {
  if (doc.big) {
    var v = 'x'.repeat(4 << 20);
    for (var i = 0; i < 17; i++) dst[meta.id + '-' + i] = v;
    return;
  }
  dst[meta.id] = {ok: true};
}`, bindings: []binding{{"dst", "dst", "rw"}}, settings: map[string]any{"worker_count": 1}})
	c.BulkDocs("src", []map[string]any{{"_id": "a"}, {"_id": "huge", "big": true}, {"_id": "b"}})
	// Each split of the batch runs the handler again and encodes its 68 MiB
	// of writes: about 50 s under -race alone, more beside other packages'
	// tests on 2 cores. What is asserted is that it ends, not how fast.
	waitFor(t, 3*time.Minute, "the events batched with the too-large one", func() bool {
		m := c.docMap("dst")
		return m["a"] != nil && m["b"] != nil
	})
	c.BulkDocs("src", []map[string]any{{"_id": "later"}})
	waitFor(t, 30*time.Second, "a later mutation", func() bool { return c.docMap("dst")["later"] != nil })
	if m := c.docMap("dst"); len(m) != 3 {
		t.Fatalf("dst holds %d documents, want a, b and later only", len(m))
	}
	c.waitStat("big", "failure_stats", "commit_too_large_count", 1)
	if got := c.stat("big", "execution_stats", "on_update_failure"); got != 1 {
		t.Errorf("on_update_failure = %v, want 1", got)
	}
	if got := c.stat("big", "execution_stats", "on_update_success"); got != 3 {
		t.Errorf("on_update_success = %v, want 3", got)
	}
	log := strings.Join(c.getAppLog("big", 1<<16), "\n")
	if !strings.Contains(log, `OnUpdate (key "huge")`) || !strings.Contains(log, "largest replicated command") {
		t.Errorf("the application log does not name the failed invocation:\n%s", log)
	}
}

// A function's memory budget (memory_budget_mb, an eventide setting) stops
// an invocation that keeps allocating, long before its execution timeout;
// the failure is counted and logged with its key, and the function goes on
// handling mutations.
func TestRobust_MemoryBudgetStopsARunawayInvocation(t *testing.T) {
	_, c := newNode(t, "src", "dst", "meta")
	c.deployNew(fnSpec{name: "bomb", code: `function OnUpdate(doc, meta) {
  if (doc.bomb) {
    var kept = [];
    while (true) kept.push('x'.repeat(1 << 20) + kept.length);
  }
  dst[meta.id] = {ok: true};
}`, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"worker_count": 1, "memory_budget_mb": 32, "execution_timeout": 120}})
	var def struct {
		Settings map[string]any `json:"settings"`
	}
	c.GetJSON(c.Eventing+"/api/v1/functions/bomb", &def)
	if def.Settings["memory_budget_mb"] != float64(32) {
		t.Fatalf("settings.memory_budget_mb = %v, want 32", def.Settings["memory_budget_mb"])
	}
	c.BulkDocs("src", []map[string]any{{"_id": "boom", "bomb": true}})
	c.waitStat("bomb", "failure_stats", "memory_budget_exceeded_count", 1)
	c.BulkDocs("src", []map[string]any{{"_id": "after"}})
	waitFor(t, 30*time.Second, "a mutation after the overrun", func() bool { return c.docMap("dst")["after"] != nil })
	if got := c.stat("bomb", "failure_stats", "timeout_count"); got != 0 {
		t.Errorf("timeout_count = %v: the execution timeout, not the budget, stopped it", got)
	}
	log := strings.Join(c.getAppLog("bomb", 1<<16), "\n")
	if !strings.Contains(log, `OnUpdate (key "boom")`) || !strings.Contains(log, "memory budget of 32 MiB exceeded") {
		t.Errorf("the application log does not name the stopped invocation:\n%s", log)
	}
}
