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
	c.bulkDocs("src", []map[string]any{{"_id": "a"}, {"_id": "huge", "big": true}, {"_id": "b"}})
	waitFor(t, 60*time.Second, "the events batched with the too-large one", func() bool {
		m := c.docMap("dst")
		return m["a"] != nil && m["b"] != nil
	})
	c.bulkDocs("src", []map[string]any{{"_id": "later"}})
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
