package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventide/node/nodetest"
)

// timerCode creates one timer per document, due doc.delay ms from now,
// with the document id as reference; doc.cancel cancels it again and
// doc.twice overwrites it with a second context. The callback counts its
// firings per document and records how late it ran.
const timerCode = `function OnUpdate(doc, meta) {
  var due = new Date(Date.now() + doc.delay);
  var ref = createTimer(Fire, due, meta.id, {id: meta.id, due: due.getTime(), v: 1});
  if (ref !== meta.id) throw new Error('createTimer returned ' + ref);
  if (doc.twice) createTimer(Fire, due, meta.id, {id: meta.id, due: due.getTime(), v: 2});
  if (doc.cancel) {
    if (!cancelTimer(Fire, meta.id)) throw new Error('cancelTimer found no timer');
    if (cancelTimer(Fire, meta.id)) throw new Error('cancelTimer cancelled twice');
  }
}
function Fire(ctx) {
  var r = couchbase.increment(dst, {id: 'fired::' + ctx.id});
  if (!r.success) throw new Error(JSON.stringify(r));
  dst['late::' + ctx.id] = {late: Date.now() - ctx.due, v: ctx.v};
}`

// timerDocs returns n documents whose timers are due delay ms after
// their handling, plus up to spread ms spread evenly over them.
func timerDocs(n, delay, spread int) []map[string]any {
	ds := docs("t", 0, n)
	for i, d := range ds {
		d["delay"] = delay + i*spread/n
		d["cancel"] = i%10 == 3
		d["twice"] = i%10 == 5
	}
	return ds
}

// checkTimerEffects waits until every non-cancelled document's timer fired
// and then checks each fired exactly once, with the overwriting context,
// and no cancelled one fired.
func checkTimerEffects(t *testing.T, c *client, n int, within time.Duration) {
	t.Helper()
	want := 0
	for i := range n {
		if i%10 != 3 {
			want++
		}
	}
	var last map[string]map[string]any
	waitFor(t, within, fmt.Sprintf("%d timers to fire", want), func() bool {
		last = c.docMap("dst")
		fired := 0
		for k := range last {
			if strings.HasPrefix(k, "fired::") {
				fired++
			}
		}
		return fired >= want
	})
	time.Sleep(500 * time.Millisecond) // a duplicate firing would show now
	last = c.docMap("dst")
	for i := range n {
		id := fmt.Sprintf("t%05d", i)
		f, ok := last["fired::"+id]
		switch {
		case i%10 == 3 && ok:
			t.Errorf("cancelled timer %s fired", id)
		case i%10 != 3 && (!ok || f["count"] != float64(1)):
			t.Errorf("timer %s fired %v times, want once", id, f["count"])
		case i%10 == 5 && last["late::"+id]["v"] != float64(2):
			t.Errorf("overwritten timer %s fired with context %v, want the second", id, last["late::"+id])
		}
	}
}

func TestTimers_FireOnceEach(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "timers", code: timerCode,
		bindings: []binding{{"dst", "dst", "rw"}}, settings: map[string]any{"worker_count": 2}})
	const n = 200
	c.BulkDocs("src", timerDocs(n, 1000, 0))
	checkTimerEffects(t, c, n, 30*time.Second)
	c.waitStat("timers", "execution_stats", "timer_callback_success", float64(n-n/10))
	st := c.functionStats("timers", false)
	for _, k := range []struct {
		group, name string
		want        float64
	}{
		{"execution_stats", "timer_create_counter", float64(n + n/10)},
		{"execution_stats", "timer_cancel_counter", float64(n / 10)}, // timers actually cancelled
		{"execution_stats", "timer_callback_failure", 0},
		{"failure_stats", "timer_callback_missing_counter", 0},
		{"execution_stats", "on_update_failure", 0},
	} {
		if got := num(t, st, k.group, k.name); got != k.want {
			t.Errorf("%s.%s = %v, want %v", k.group, k.name, got, k.want)
		}
	}
	// Lateness is a benchmark figure (make bench), but no timer runs early.
	for id, d := range c.docMap("dst") {
		if strings.HasPrefix(id, "late::") && d["late"].(float64) < 0 {
			t.Errorf("timer %s ran %v ms before its due time", id, d["late"])
		}
	}
}

// Timers due while the function is paused fire once after resume; none
// fires while paused.
func TestTimers_PauseResume(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "timers", code: timerCode, bindings: []binding{{"dst", "dst", "rw"}}})
	const n = 50
	c.BulkDocs("src", timerDocs(n, 1500, 0))
	c.waitStat("timers", "execution_stats", "on_update_success", n)
	c.Lifecycle("timers", "pause")
	c.WaitStatus("timers", "paused")
	time.Sleep(2 * time.Second)
	fired := 0
	for id := range c.docMap("dst") {
		if strings.HasPrefix(id, "fired::") {
			fired++
		}
	}
	// Some may have fired before the pause took effect; the rest wait.
	holdsFor(t, time.Second, "no timer fires while paused", func() bool {
		now := 0
		for id := range c.docMap("dst") {
			if strings.HasPrefix(id, "fired::") {
				now++
			}
		}
		return now == fired
	})
	c.Lifecycle("timers", "resume")
	c.WaitStatus("timers", "deployed")
	checkTimerEffects(t, c, n, 30*time.Second)
}

// A node killed with timers pending loses none and fires none twice: its
// partitions' timers fire on the survivors after failover, and on it again
// once it has rejoined and taken its vbuckets back.
func TestTimers_ClusterKill(t *testing.T) {
	cl := nodetest.NewCluster(t, 3, nodetest.Options{VBuckets: 64, FailoverTimeout: 2 * time.Second})
	clients := clusterClients(t, cl, "src", "dst", "meta")
	clients[0].deployNew(fnSpec{name: "timers", code: timerCode, bindings: []binding{{"dst", "dst", "rw"}}})
	const n = 300
	clients[1].BulkDocs("src", timerDocs(n, 3000, 6000))
	waitFor(t, 30*time.Second, "every document handled", func() bool {
		return clients[0].stat("timers", "execution_stats", "on_update_success") >= n
	})
	// Kill a node with timers pending in its partitions, then bring it
	// back while later ones are still pending: its partitions fail over
	// to the survivors and move back to it on rejoin.
	victim := cl.Followers()[0]
	victim.Kill()
	waitFailedOver(t, cl, clients, victim, 30*time.Second)
	victim.Start()
	var live *client
	for i, nd := range cl.Nodes {
		if nd != victim {
			live = clients[i]
			break
		}
	}
	checkTimerEffects(t, live, n, 60*time.Second)
}

// OnDeploy runs once per deploy and resume, before any mutation, with its
// reason and delay; its writes and timers are committed like a handler's.
// A throwing OnDeploy undeploys the function and says why in the log.
func TestOnDeploy(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	code := `function OnDeploy(action) {
  var r = couchbase.increment(dst, {id: 'ondeploy::' + action.reason});
  dst['last'] = {reason: action.reason, delay: action.delay};
  createTimer(Fire, new Date(), 'from-ondeploy', {n: r.doc.count});
}
function Fire(ctx) { dst['timer::' + ctx.n] = ctx; }
function OnUpdate(doc, meta) {
  var seen = dst['ondeploy::Deploy'];
  dst['seen::' + meta.id] = {ondeploy: seen ? seen.count : 0};
}`
	c.deployNew(fnSpec{name: "od", code: code, bindings: []binding{{"dst", "dst", "rw"}}, settings: map[string]any{"worker_count": 3}})
	c.BulkDocs("src", docs("d", 0, 20))
	waitFor(t, 20*time.Second, "documents and the OnDeploy timer", func() bool {
		m := c.docMap("dst")
		return len(m) >= 20+3 && m["timer::1"] != nil
	})
	m := c.docMap("dst")
	if m["ondeploy::Deploy"]["count"] != float64(1) || m["last"]["reason"] != "Deploy" || m["last"]["delay"] != float64(0) {
		t.Fatalf("after deploy: ondeploy %v, last %v; want one run with reason Deploy and delay 0", m["ondeploy::Deploy"], m["last"])
	}
	for id, d := range m {
		if strings.HasPrefix(id, "seen::") && d["ondeploy"] != float64(1) {
			t.Errorf("%s ran before OnDeploy completed: %v", id, d)
		}
	}
	c.Lifecycle("od", "pause")
	c.WaitStatus("od", "paused")
	time.Sleep(300 * time.Millisecond)
	c.Lifecycle("od", "resume")
	c.WaitStatus("od", "deployed")
	waitFor(t, 20*time.Second, "OnDeploy on resume", func() bool {
		m = c.docMap("dst")
		return m["ondeploy::Resume"] != nil
	})
	if m["last"]["reason"] != "Resume" || m["last"]["delay"].(float64) < 300 || m["ondeploy::Deploy"]["count"] != float64(1) {
		t.Fatalf("after resume: last %v, deploys %v; want Resume with a delay of at least 300 ms", m["last"], m["ondeploy::Deploy"])
	}

	// A throwing OnDeploy undeploys the function.
	c.createAndDeploy(fnSpec{name: "bad", code: `function OnDeploy(action) { throw new Error('not today'); }
function OnUpdate(doc, meta) { dst['bad::' + meta.id] = doc; }`, bindings: []binding{{"dst", "dst", "rw"}}})
	c.WaitStatus("bad", "undeployed")
	waitFor(t, 10*time.Second, "the OnDeploy failure in the app log", func() bool {
		return strings.Contains(strings.Join(c.getAppLog("bad", 1<<16), "\n"), "not today")
	})
	for id := range c.docMap("dst") {
		if strings.HasPrefix(id, "bad::") {
			t.Fatalf("a function whose OnDeploy threw handled %s", id)
		}
	}
}

// timer_context_size bounds contexts and, like in Couchbase, can be
// changed while the function is deployed: it applies to later mutations.
func TestTimers_ContextSizeLive(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	code := `function OnUpdate(doc, meta) {
  try {
    createTimer(Fire, new Date(), meta.id, {pad: doc.pad});
  } catch (e) {
    dst['refused::' + meta.id] = {error: e.message, eventing: e instanceof EventingError};
  }
}
function Fire(ctx) { dst['fired::' + ctx.pad.length] = {}; }`
	c.deployNew(fnSpec{name: "ctx", code: code, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"timer_context_size": 100}})
	c.BulkDocs("src", []map[string]any{{"_id": "big", "pad": strings.Repeat("x", 200)}, {"_id": "small", "pad": "xx"}})
	waitFor(t, 10*time.Second, "the small timer and the refusal", func() bool {
		m := c.docMap("dst")
		return m["fired::2"] != nil && m["refused::big"] != nil
	})
	if r := c.docMap("dst")["refused::big"]; r["eventing"] != true {
		t.Errorf("oversized context refused with %v, want an EventingError", r)
	}
	if got := c.stat("ctx", "failure_stats", "timer_context_size_exception_counter"); got != 1 {
		t.Errorf("timer_context_size_exception_counter = %v, want 1", got)
	}
	c.Must(http.StatusOK, "POST", c.Eventing+"/api/v1/functions/ctx/settings", "application/json",
		[]byte(`{"timer_context_size": 1024}`))
	c.BulkDocs("src", []map[string]any{{"_id": "big2", "pad": strings.Repeat("y", 300)}})
	waitFor(t, 10*time.Second, "the big timer after the setting changed", func() bool {
		return c.docMap("dst")["fired::300"] != nil
	})
	if c.CompositeStatus("ctx") != "deployed" {
		t.Errorf("status %s after a live settings change, want deployed", c.CompositeStatus("ctx"))
	}
}

// A timer whose callback no longer exists when it fires (the code was
// edited while paused) is counted in timer_callback_missing_counter and
// dropped.
func TestTimers_CallbackMissing(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "gone", code: `function OnUpdate(doc, meta) { createTimer(Fire, new Date(Date.now() + 1500), meta.id, null); }
function Fire(ctx) { dst['fired'] = {}; }`, bindings: []binding{{"dst", "dst", "rw"}}})
	c.BulkDocs("src", []map[string]any{{"_id": "a"}})
	c.waitStat("gone", "execution_stats", "timer_create_counter", 1)
	c.Lifecycle("gone", "pause")
	c.WaitStatus("gone", "paused")
	c.Must(http.StatusOK, "POST", c.Eventing+"/api/v1/functions/gone/appcode", "application/javascript",
		[]byte(`function OnUpdate(doc, meta) {}
function Other(ctx) { dst['other'] = {}; }`))
	c.Lifecycle("gone", "resume")
	c.WaitStatus("gone", "deployed")
	c.waitStat("gone", "failure_stats", "timer_callback_missing_counter", 1)
	holdsFor(t, 2*time.Second, "nothing runs for the missing callback", func() bool {
		return len(c.docMap("dst")) == 0 && c.stat("gone", "failure_stats", "timer_callback_missing_counter") == 1
	})
}

// Undeploy drops pending timers: a redeployed function (from now) does
// not fire the old instance's timers.
func TestTimers_DroppedOnUndeploy(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "drop", code: timerCode, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"dcp_stream_boundary": "from_now"}})
	c.BulkDocs("src", timerDocs(20, 1500, 0))
	c.waitStat("drop", "execution_stats", "on_update_success", 20)
	c.Lifecycle("drop", "undeploy")
	c.WaitStatus("drop", "undeployed")
	c.Lifecycle("drop", "deploy")
	c.WaitStatus("drop", "deployed")
	holdsFor(t, 3*time.Second, "no timer of the old instance fires", func() bool {
		return len(c.docMap("dst")) == 0
	})
}
