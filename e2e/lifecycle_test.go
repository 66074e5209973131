package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// copyCode copies each source document into dst.
const copyCode = `function OnUpdate(doc, meta) {
  dst[meta.id] = doc;
}`

// TestStreamBoundary_FromNowAndEverything: a from_now function ignores the
// documents written before it was deployed and handles later writes
// (including new versions of old documents); an everything function
// handles both.
func TestStreamBoundary_FromNowAndEverything(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dnow", "dall")
	before := docs("before", 0, 40)
	revs := c.BulkDocs("src", before)

	c.deployNew(fnSpec{name: "fromnow", code: copyCode,
		bindings: []binding{{"dst", "dnow", "rw"}}, settings: map[string]any{"dcp_stream_boundary": "from_now"}})
	c.deployNew(fnSpec{name: "all", code: copyCode,
		bindings: []binding{{"dst", "dall", "rw"}}, settings: map[string]any{"dcp_stream_boundary": "everything"}})

	after := docs("after", 0, 30)
	c.BulkDocs("src", after)
	// A new version of a document written before the deploy is a mutation
	// after it: from_now handles it.
	c.BulkDocs("src", []map[string]any{{"_id": "before00007", "_rev": revs["before00007"], "n": 1007, "kind": "UPDATED"}})

	waitCount(t, c, "dall", 70)
	waitCount(t, c, "dnow", 31)
	holdsFor(t, 500*time.Millisecond, "from_now function handles only later writes", func() bool {
		return len(c.AllDocs("dnow")) == 31
	})
	for id, d := range c.docMap("dnow") {
		switch {
		case id == "before00007":
			if d["kind"] != "UPDATED" {
				t.Fatalf("dnow has the old version of before00007: %v", d)
			}
		case !strings.HasPrefix(id, "after"):
			t.Fatalf("from_now function handled %s, written before it was deployed", id)
		}
	}
	all := c.docMap("dall")
	for _, d := range append(before, after...) {
		if _, ok := all[d["_id"].(string)]; !ok {
			t.Fatalf("everything function did not handle %s", d["_id"])
		}
	}
	if got := c.stat("fromnow", "event_processing_stats", "dcp_mutation_sent_to_worker"); got != 31 {
		t.Fatalf("from_now function was sent %v mutations, want 31", got)
	}
	if got := c.stat("all", "event_processing_stats", "dcp_mutation_sent_to_worker"); got != 71 {
		t.Fatalf("everything function was sent %v mutations, want 71", got)
	}
	var st struct {
		DCPFeedBoundary string `json:"dcp_feed_boundary"`
	}
	c.GetJSON(c.Eventing+"/api/v1/stats/fromnow", &st)
	if st.DCPFeedBoundary != "from_now" {
		t.Fatalf("stats dcp_feed_boundary %q, want from_now", st.DCPFeedBoundary)
	}

	// A redeployed from_now function starts at the new deployment: what
	// was written while it was undeployed is skipped.
	c.Lifecycle("fromnow", "undeploy")
	c.WaitStatus("fromnow", "undeployed")
	c.BulkDocs("src", docs("gap", 0, 10))
	c.Lifecycle("fromnow", "deploy")
	c.WaitStatus("fromnow", "deployed")
	c.BulkDocs("src", docs("later", 0, 5))
	waitCount(t, c, "dnow", 36)
	waitCount(t, c, "dall", 85)
	for id := range c.docMap("dnow") {
		if strings.HasPrefix(id, "gap") {
			t.Fatalf("redeployed from_now function handled %s, written while it was undeployed", id)
		}
	}
}

// TestUndeploy_DropsCheckpointsAndAllowsDelete: a deployed function cannot
// be deleted (and the refusal changes nothing); undeploy drops its
// checkpoints, so the next deploy with "everything" handles every existing
// document again; an undeployed function can be deleted.
func TestUndeploy_DropsCheckpointsAndAllowsDelete(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	first := docs("doc", 0, 60)
	c.BulkDocs("src", first)
	c.deployNew(fnSpec{name: "counter", code: counterCode, bindings: []binding{{"dst", "dst", "rw"}}})
	want := expectCounts(nil, first, 1)
	c.waitCounts("dst", want)

	// Deleting a deployed function fails with ERR_APP_NOT_UNDEPLOYED and
	// changes nothing: the definition, the status and the processing.
	list := c.functionList()
	c.expectError(http.StatusUnprocessableEntity, "ERR_APP_NOT_UNDEPLOYED", http.MethodDelete, c.Eventing+"/api/v1/functions/counter", nil)
	c.requireUnchanged(list, "a refused delete")
	if s := c.CompositeStatus("counter"); s != "deployed" {
		t.Fatalf("after a refused delete the function is %s, want deployed", s)
	}
	one := docs("one", 0, 1)
	c.BulkDocs("src", one)
	want = expectCounts(want, one, 1)
	c.waitCounts("dst", want)

	c.Lifecycle("counter", "undeploy")
	if s := c.CompositeStatus("counter"); s != "undeploying" && s != "undeployed" {
		t.Fatalf("right after undeploy the function is %s, want undeploying or undeployed", s)
	}
	c.WaitStatus("counter", "undeployed")
	var settings struct {
		DeploymentStatus bool `json:"deployment_status"`
		ProcessingStatus bool `json:"processing_status"`
	}
	c.GetJSON(c.Eventing+"/api/v1/functions/counter/settings", &settings)
	if settings.DeploymentStatus || settings.ProcessingStatus {
		t.Fatalf("undeployed function has settings %+v, want both false", settings)
	}

	// Writes while undeployed are not handled.
	late := docs("late", 0, 10)
	c.BulkDocs("src", late)
	holdsFor(t, 500*time.Millisecond, "no processing while undeployed", func() bool {
		return len(c.AllDocs("dst")) == 61
	})

	// Redeploying with "everything" starts from scratch: every source
	// document is handled once more.
	c.Lifecycle("counter", "deploy")
	c.WaitStatus("counter", "deployed")
	want = expectCounts(want, first, 2)
	want = expectCounts(want, one, 2)
	want = expectCounts(want, late, 1)
	c.waitCounts("dst", want)
	holdsFor(t, 500*time.Millisecond, "each document handled exactly once per deployment", func() bool {
		got := c.counts("dst")
		return got["doc00000"] == 2 && got["late00000"] == 1 && len(got) == len(want)
	})

	// Deploying a deployed function is refused.
	c.expectError(http.StatusUnprocessableEntity, "ERR_APP_ALREADY_DEPLOYED", http.MethodPost, c.Eventing+"/api/v1/functions/counter/deploy", nil)

	// A paused function cannot be deleted either; it can be undeployed.
	c.Lifecycle("counter", "pause")
	c.WaitStatus("counter", "paused")
	list = c.functionList()
	c.expectError(http.StatusUnprocessableEntity, "ERR_APP_NOT_UNDEPLOYED", http.MethodDelete, c.Eventing+"/api/v1/functions/counter", nil)
	c.requireUnchanged(list, "a refused delete of a paused function")
	c.Lifecycle("counter", "undeploy")
	c.WaitStatus("counter", "undeployed")
	c.Must(http.StatusOK, http.MethodDelete, c.Eventing+"/api/v1/functions/counter", "", nil)
	c.expectError(http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", http.MethodGet, c.Eventing+"/api/v1/functions/counter", nil)
	c.expectError(http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", http.MethodGet, c.Eventing+"/api/v1/status/counter", nil)
	if l := c.functionList(); !bytes.Equal(bytes.TrimSpace(l), []byte("[]")) {
		t.Fatalf("function list after delete: %s", l)
	}
	// The source documents are untouched by all of this.
	if n := len(c.AllDocs("src")); n != 71 {
		t.Fatalf("src holds %d docs, want 71", n)
	}
	var all []map[string]any
	c.GetJSON(c.Eventing+"/api/v1/stats", &all)
	if len(all) != 0 {
		t.Fatalf("/api/v1/stats lists %d functions after the delete", len(all))
	}

	// A new function under the same name is a new function: its counters
	// start from zero and it handles every document once.
	c.deployNew(fnSpec{name: "counter", code: counterCode, bindings: []binding{{"dst", "dst", "rw"}}})
	want = expectCounts(want, first, 3)
	want = expectCounts(want, one, 3)
	want = expectCounts(want, late, 2)
	c.waitCounts("dst", want)
	c.waitStat("counter", "execution_stats", "on_update_success", 71)
	holdsFor(t, 300*time.Millisecond, "the new function's counters count only its own events", func() bool {
		return c.stat("counter", "event_processing_stats", "dcp_mutation_sent_to_worker") == 71
	})
}

// TestRestart_KeepsLifecycleState: after a node restart a paused function
// stays paused, an undeployed one undeployed, and a deployed one resumes
// from its checkpoints without handling anything twice.
func TestRestart_KeepsLifecycleState(t *testing.T) {
	n, c := newNode(t, "src", "meta", "dpaused", "dundeployed", "ddeployed")
	for _, f := range []struct{ name, dst string }{
		{"paused", "dpaused"}, {"undeployed", "dundeployed"}, {"deployed", "ddeployed"},
	} {
		c.deployNew(fnSpec{name: f.name, code: counterCode, bindings: []binding{{"dst", f.dst, "rw"}}})
	}
	first := docs("first", 0, 30)
	c.BulkDocs("src", first)
	want := expectCounts(nil, first, 1)
	for _, ks := range []string{"dpaused", "dundeployed", "ddeployed"} {
		c.waitCounts(ks, want)
	}
	c.Lifecycle("paused", "pause")
	c.Lifecycle("undeployed", "undeploy")
	c.WaitStatus("paused", "paused")
	c.WaitStatus("undeployed", "undeployed")
	whilePaused := docs("paused", 0, 10)
	c.BulkDocs("src", whilePaused)
	want = expectCounts(want, whilePaused, 1)
	c.waitCounts("ddeployed", want)

	n.Restart()

	for name, st := range map[string]string{"paused": "paused", "undeployed": "undeployed", "deployed": "deployed"} {
		if got := c.CompositeStatus(name); got != st {
			t.Fatalf("after restart %s is %s, want %s", name, got, st)
		}
	}
	second := docs("second", 0, 20)
	c.BulkDocs("src", second)
	all := expectCounts(maps.Clone(want), second, 1)
	c.waitCounts("ddeployed", all)
	holdsFor(t, 500*time.Millisecond, "paused and undeployed functions stay idle after restart", func() bool {
		return len(c.AllDocs("dpaused")) == 30 && len(c.AllDocs("dundeployed")) == 30 &&
			c.CompositeStatus("paused") == "paused" && c.CompositeStatus("undeployed") == "undeployed"
	})

	// Resuming continues from the checkpoints taken before the restart:
	// the documents written while paused (before and after the restart)
	// are handled, once, and nothing else.
	c.Lifecycle("paused", "resume")
	c.WaitStatus("paused", "deployed")
	c.waitCounts("dpaused", all)
	holdsFor(t, 500*time.Millisecond, "nothing handled twice", func() bool {
		return maps.Equal(c.counts("dpaused"), all) && maps.Equal(c.counts("ddeployed"), all)
	})
	if got := c.CompositeStatus("undeployed"); got != "undeployed" {
		t.Fatalf("undeployed function is %s", got)
	}
}

// TestUndeploy_InterruptsRunningHandler: undeploying a function whose
// handler is stuck in a long invocation does not wait for its
// execution_timeout: the invocation is interrupted and the function
// reaches undeployed; its workers are gone.
func TestUndeploy_InterruptsRunningHandler(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "stuck", code: statsCode, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"execution_timeout": 60, "worker_count": 1}})
	c.BulkDocs("src", docs("loop", 0, 1))
	c.waitStat("stuck", "event_processing_stats", "dcp_mutation_sent_to_worker", 1)

	start := time.Now()
	c.Lifecycle("stuck", "undeploy")
	c.WaitStatus("stuck", "undeployed")
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("undeploy took %v: it waited for the stuck handler", d)
	}
	var st struct {
		Apps []struct {
			Name             string `json:"name"`
			NumDeployedNodes int    `json:"num_deployed_nodes"`
			CompositeStatus  string `json:"composite_status"`
		} `json:"apps"`
	}
	c.GetJSON(c.Eventing+"/api/v1/status", &st)
	if len(st.Apps) != 1 || st.Apps[0].NumDeployedNodes != 0 || st.Apps[0].CompositeStatus != "undeployed" {
		t.Fatalf("status after undeploy: %+v", st)
	}
	// An interrupted invocation is not the handler's failure.
	if got := c.stat("stuck", "failure_stats", "timeout_count"); got != 0 {
		t.Fatalf("timeout_count = %v after an undeploy interrupted the handler", got)
	}
	// The other documents are not handled while undeployed.
	c.BulkDocs("src", docs("ok", 0, 3))
	holdsFor(t, 300*time.Millisecond, "no handling after undeploy", func() bool { return len(c.AllDocs("dst")) == 0 })
}

// TestRestart_MidBacklog: pausing, and restarting the node, while a
// deployed function is working through a backlog loses nothing and
// repeats nothing: every document's effect is there exactly once.
func TestRestart_MidBacklog(t *testing.T) {
	n, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "counter", code: counterCode, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"worker_count": 3}})
	var all []map[string]any
	for i := range 3 {
		batch := docs(fmt.Sprintf("b%d-", i), 0, 500)
		c.BulkDocs("src", batch)
		all = append(all, batch...)
	}
	c.Lifecycle("counter", "pause")
	c.WaitStatus("counter", "paused")
	c.Lifecycle("counter", "resume")
	more := docs("more", 0, 500)
	c.BulkDocs("src", more)
	all = append(all, more...)
	n.Restart()
	c.WaitStatus("counter", "deployed")
	want := expectCounts(nil, all, 1)
	c.waitCounts("dst", want)
	holdsFor(t, 500*time.Millisecond, "each document handled once", func() bool {
		return maps.Equal(c.counts("dst"), want)
	})
}
