package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// statsCode copies OK documents, throws for THROW documents, loops forever
// for LOOP documents, and deletes the copy on delete.
const statsCode = `function OnUpdate(doc, meta) {
  if (doc.kind === 'THROW') {
    throw new Error('boom ' + meta.id);
  }
  if (doc.kind === 'LOOP') {
    while (true) {}
  }
  dst[meta.id] = {n: doc.n};
}
function OnDelete(meta, options) {
  delete dst[meta.id];
}`

// TestStats_CountEventsThroughREST: every stats endpoint reports the
// events handled; an uncaught exception counts as on_update_failure and is
// in the application log; a handler that exceeds execution_timeout counts
// timeout_count while the worker goes on with the other documents; and
// resetStatsCounters zeroes everything.
func TestStats_CountEventsThroughREST(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.deployNew(fnSpec{name: "stats", code: statsCode, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"execution_timeout": 1, "worker_count": 1}})

	// The looping documents come first: the only worker must time them out
	// and carry on with the rest.
	c.BulkDocs("src", docs("loop", 0, 2))
	c.BulkDocs("src", docs("throw", 0, 3))
	revs := c.BulkDocs("src", docs("ok", 0, 20))
	waitCount(t, c, "dst", 20)
	var deletes []map[string]any
	for i := range 5 {
		id := fmt.Sprintf("ok%05d", i)
		deletes = append(deletes, map[string]any{"_id": id, "_rev": revs[id], "_deleted": true})
	}
	c.BulkDocs("src", deletes)
	waitCount(t, c, "dst", 15)
	c.waitStat("stats", "execution_stats", "on_delete_success", 5)

	want := map[string]float64{
		"on_update_success": 20, "on_update_failure": 5, // 3 exceptions, 2 timeouts
		"on_delete_success": 5, "on_delete_failure": 0,
	}
	checkExec := func(where string, exec map[string]any, want map[string]float64) {
		t.Helper()
		for k, v := range want {
			if got := num(t, exec, k); got != v {
				t.Fatalf("%s: %s = %v, want %v", where, k, got, v)
			}
		}
	}

	// /api/v1/stats lists the function.
	var all []map[string]any
	c.GetJSON(c.Eventing+"/api/v1/stats", &all)
	var mine map[string]any
	for _, s := range all {
		if s["function_name"] == "stats" {
			mine = s
		}
	}
	if mine == nil {
		t.Fatalf("/api/v1/stats does not list the function: %v", all)
	}
	checkExec("/api/v1/stats", mine["execution_stats"].(map[string]any), want)
	if got := num(t, mine, "failure_stats", "timeout_count"); got != 2 {
		t.Fatalf("/api/v1/stats: timeout_count = %v, want 2", got)
	}

	// /api/v1/stats/{name}?type=full adds the latency histogram: one entry
	// per event sent to the worker (25 mutations, 5 deletions).
	full := c.functionStats("stats", true)
	checkExec("/api/v1/stats/stats?type=full", full["execution_stats"].(map[string]any), want)
	if got := num(t, full, "event_processing_stats", "dcp_mutation_sent_to_worker"); got != 25 {
		t.Fatalf("dcp_mutation_sent_to_worker = %v, want 25", got)
	}
	if got := num(t, full, "event_processing_stats", "dcp_deletion_sent_to_worker"); got != 5 {
		t.Fatalf("dcp_deletion_sent_to_worker = %v, want 5", got)
	}
	if got := sumHistogram(t, full["latency_stats"]); got != 30 {
		t.Fatalf("type=full latency_stats counts %v events, want 30", got)
	}
	if got := num(t, full, "latency_percentile_stats", "100"); got <= 0 {
		t.Fatalf("latency_percentile_stats.100 = %v, want > 0", got)
	}
	if _, ok := c.functionStats("stats", false)["latency_stats"]; ok {
		t.Fatal("latency_stats present without type=full")
	}

	var exec, failure, latency map[string]any
	c.GetJSON(c.Eventing+"/getExecutionStats?name=stats", &exec)
	checkExec("/getExecutionStats", exec, want)
	c.GetJSON(c.Eventing+"/getFailureStats?name=stats", &failure)
	if got := num(t, failure, "timeout_count"); got != 2 {
		t.Fatalf("/getFailureStats: timeout_count = %v, want 2", got)
	}
	c.GetJSON(c.Eventing+"/getLatencyStats?name=stats", &latency)
	if got := sumHistogram(t, latency); got != 30 {
		t.Fatalf("/getLatencyStats counts %v events, want 30", got)
	}
	c.expectError(http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", http.MethodGet, c.Eventing+"/getExecutionStats?name=nosuch", nil)

	// The failures are in the application log.
	logText := string(c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/getAppLog?appName=stats&size=65536", "", nil))
	for _, s := range []string{"boom throw00000", "boom throw00002", `"loop00000"`, `"loop00001"`} {
		if !strings.Contains(logText, s) {
			t.Fatalf("application log lacks %q:\n%s", s, logText)
		}
	}
	if n := strings.Count(logText, "execution timeout"); n != 2 {
		t.Fatalf("application log reports %d timeouts, want 2:\n%s", n, logText)
	}

	// Reset zeroes every counter; counting goes on afterwards.
	c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/resetStatsCounters?appName=stats", "", nil)
	zero := map[string]float64{"on_update_success": 0, "on_update_failure": 0, "on_delete_success": 0}
	c.GetJSON(c.Eventing+"/getExecutionStats?name=stats", &exec)
	checkExec("after reset /getExecutionStats", exec, zero)
	c.GetJSON(c.Eventing+"/getFailureStats?name=stats", &failure)
	if got := num(t, failure, "timeout_count"); got != 0 {
		t.Fatalf("after reset timeout_count = %v", got)
	}
	c.GetJSON(c.Eventing+"/getLatencyStats?name=stats", &latency)
	if got := sumHistogram(t, latency); got != 0 {
		t.Fatalf("after reset the latency histogram counts %v", got)
	}
	full = c.functionStats("stats", true)
	checkExec("after reset /api/v1/stats/stats", full["execution_stats"].(map[string]any), zero)
	if got := num(t, full, "event_processing_stats", "dcp_mutation_sent_to_worker"); got != 0 {
		t.Fatalf("after reset dcp_mutation_sent_to_worker = %v", got)
	}

	c.BulkDocs("src", docs("more", 0, 3))
	c.waitStat("stats", "execution_stats", "on_update_success", 3)
	c.GetJSON(c.Eventing+"/getLatencyStats?name=stats", &latency)
	if got := sumHistogram(t, latency); got != 3 {
		t.Fatalf("after reset and 3 more docs the latency histogram counts %v", got)
	}
}

// appLogLine is Couchbase's application log line: timestamp, level, and
// each log() argument JSON-encoded and followed by a space.
var appLogLine = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}([+-]\d\d:\d\d|Z) \[INFO\] (.*)$`)

// getAppLog returns the lines of /getAppLog.
func (c *client) getAppLog(name string, size int) []string {
	c.TB.Helper()
	u := fmt.Sprintf("%s/getAppLog?appName=%s&size=%d", c.Eventing, name, size)
	b := string(c.Must(http.StatusOK, http.MethodGet, u, "", nil))
	if b == "" {
		return nil
	}
	return strings.Split(b, "\n")
}

// TestAppLog_NewestFirstInCouchbaseFormat: log() lines come back from
// /getAppLog newest first, in Couchbase's format, bounded by size.
func TestAppLog_NewestFirstInCouchbaseFormat(t *testing.T) {
	_, c := newNode(t, "src", "meta")
	c.deployNew(fnSpec{name: "logger", code: `function OnUpdate(doc, meta) {
  log('doc', meta.id, {n: doc.n}, doc.n);
}`})
	var lines []string
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("a%d", i)
		c.BulkDocs("src", []map[string]any{{"_id": id, "n": i}})
		waitFor(t, 30*time.Second, "log line for "+id, func() bool {
			lines = c.getAppLog("logger", 4096)
			return len(lines) == i
		})
	}
	for i, line := range lines {
		m := appLogLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %q is not in Couchbase's application log format", line)
		}
		n := 3 - i // newest first
		want := fmt.Sprintf(`"doc" "a%d" {"n":%d} %d `, n, n, n)
		if m[2] != want {
			t.Fatalf("line %d is %q, want message %q", i, line, want)
		}
		if i > 0 && line[:29] > lines[i-1][:29] {
			t.Fatalf("line %d is newer than line %d: %q, %q", i, i-1, line, lines[i-1])
		}
	}
	// size bounds the bytes returned: exactly the newest line.
	if got := c.getAppLog("logger", len(lines[0])+1); len(got) != 1 || got[0] != lines[0] {
		t.Fatalf("size=%d gave %q, want only %q", len(lines[0])+1, got, lines[0])
	}
	c.expectError(http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", http.MethodGet, c.Eventing+"/getAppLog?appName=nosuch", nil)
}

// TestAppLog_Rotation: app_log_max_size and app_log_max_files rotate the
// function's log under <data-dir>/applogs, also when they are set on a
// function that already ran (and so already had a log) with the defaults.
func TestAppLog_Rotation(t *testing.T) {
	n, c := newNode(t, "src", "meta")
	code := `function OnUpdate(doc, meta) {
  log('rotation test line for', meta.id, 'padding padding padding padding');
}`
	c.deployNew(fnSpec{name: "rotator", code: code})
	c.BulkDocs("src", docs("warm", 0, 5))
	c.waitStat("rotator", "execution_stats", "on_update_success", 5)
	dir := filepath.Join(n.Cfg.DataDir, "applogs")
	if _, err := os.Stat(filepath.Join(dir, "rotator.log")); err != nil {
		t.Fatalf("application log file: %v", err)
	}

	c.Lifecycle("rotator", "undeploy")
	c.WaitStatus("rotator", "undeployed")
	c.resetStats("rotator")
	body, _ := json.Marshal(map[string]any{"app_log_max_size": 1024, "app_log_max_files": 3})
	c.Must(http.StatusOK, http.MethodPost, c.Eventing+"/api/v1/functions/rotator/settings", "application/json", body)
	c.Lifecycle("rotator", "deploy")
	c.WaitStatus("rotator", "deployed")
	c.BulkDocs("src", docs("line", 0, 100))
	c.waitStat("rotator", "execution_stats", "on_update_success", 105) // redeploy handles the 5 warm-up docs again

	// Reading the log flushes what the log still buffers to the live file.
	lines := c.getAppLog("rotator", 1<<20)
	for i, name := range []string{"rotator.log", "rotator.log.1", "rotator.log.2"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("rotated file %d: %v", i, err)
		}
		if st.Size() > 1024 || st.Size() == 0 {
			t.Fatalf("%s is %d bytes, want 1..1024", name, st.Size())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "rotator.log.3")); !os.IsNotExist(err) {
		t.Fatalf("rotator.log.3 exists (err %v); app_log_max_files is 3", err)
	}
	if len(lines) == 0 || len(lines) > 3*1024/50 {
		t.Fatalf("getAppLog returned %d lines from three files of at most 1 KiB", len(lines))
	}
	for i, line := range lines {
		if !appLogLine.MatchString(line) || !strings.Contains(line, `"rotation test line for"`) {
			t.Fatalf("line %d: %q", i, line)
		}
		if i > 0 && line[:29] > lines[i-1][:29] {
			t.Fatalf("lines across rotated files are not newest first: %q before %q", lines[i-1], line)
		}
	}
}

// resetStats calls /resetStatsCounters for a function.
func (c *client) resetStats(name string) {
	c.TB.Helper()
	c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/resetStatsCounters?appName="+name, "", nil)
}
