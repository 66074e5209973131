package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"eventide/node/nodetest"
)

// insightCode logs on line 2 and throws on line 4 for THROW documents; the
// constant binding and the extra header must not shift those numbers.
const insightCode = `function OnUpdate(doc, meta) {
  log('seen', meta.id);
  if (doc.kind === 'THROW') {
    throw new Error(prefix + meta.id);
  }
  dst[meta.id] = {n: doc.n};
}`

// insightSpec is the function under test: one worker, a constant binding
// and a handler header that adds a line before the user's code.
func insightSpec() map[string]any {
	def := fnSpec{name: "insight", code: insightCode, bindings: []binding{{"dst", "dst", "rw"}},
		settings: map[string]any{"worker_count": 1, "handler_headers": []string{"'use strict';", "var headerLine = 1;"}}}.def()
	def["depcfg"].(map[string]any)["constants"] = []map[string]any{{"value": "prefix", "literal": "'bad ' +\n ''"}}
	return def
}

// insightLine is one line of /getInsight.
type insightLine struct {
	ErrorCount int64  `json:"error_count"`
	ErrorMsg   string `json:"error_msg"`
	LastLog    string `json:"last_log"`
}

// functionInsight is one function's entry of /getInsight.
type functionInsight struct {
	Script           string                 `json:"script"`
	Lines            map[string]insightLine `json:"lines"`
	UnreachableNodes []string               `json:"unreachable_nodes"`
}

// getInsight GETs /getInsight with the query.
func (c *client) getInsight(query string) map[string]functionInsight {
	c.TB.Helper()
	var out map[string]functionInsight
	c.GetJSON(c.Eventing+"/getInsight"+query, &out)
	return out
}

// checkInsight requires the insight of n documents handled, of which
// throws threw: the throws counted on line 4 with the last message of a
// THROW document, the last log on line 2, and nothing elsewhere.
func checkInsight(t *testing.T, where string, fi functionInsight, throws int64) {
	t.Helper()
	if fi.Script != insightCode {
		t.Fatalf("%s: script = %q, want the function's code", where, fi.Script)
	}
	if len(fi.Lines) != 2 {
		t.Fatalf("%s: lines = %+v, want lines 2 and 4", where, fi.Lines)
	}
	if l := fi.Lines["4"]; l.ErrorCount != throws || !strings.HasPrefix(l.ErrorMsg, "Error: bad throw") || l.LastLog != "" {
		t.Fatalf("%s: line 4 = %+v, want %d exceptions 'Error: bad throw...'", where, l, throws)
	}
	if l := fi.Lines["2"]; l.ErrorCount != 0 || !strings.HasPrefix(l.LastLog, `"seen" "`) || l.ErrorMsg != "" {
		t.Fatalf("%s: line 2 = %+v, want the last log", where, l)
	}
}

// TestInsight_SingleNode: /getInsight reports, per line of the user's code,
// the exceptions thrown there and the last log written there, for every
// function or the named one; aggregate=true gives the same on one node;
// resetStatsCounters clears it; bad requests get the API's errors.
func TestInsight_SingleNode(t *testing.T) {
	_, c := newNode(t, "src", "meta", "dst")
	c.CreateFunction("insight", insightSpec())
	c.CreateFunction("idle", fnSpec{name: "idle", code: "function OnUpdate(doc, meta) {}"}.def())
	c.Lifecycle("insight", "deploy")
	c.WaitStatus("insight", "deployed")

	c.BulkDocs("src", docs("ok", 0, 5))
	c.BulkDocs("src", docs("throw", 0, 3))
	c.waitStat("insight", "execution_stats", "on_update_success", 5)
	c.waitStat("insight", "execution_stats", "on_update_failure", 3)

	all := c.getInsight("")
	if len(all) != 2 || all["idle"].Script != "function OnUpdate(doc, meta) {}" || all["idle"].Lines == nil || len(all["idle"].Lines) != 0 {
		t.Fatalf("/getInsight = %+v, want insight and an idle function without lines", all)
	}
	checkInsight(t, "/getInsight", all["insight"], 3)
	one := c.getInsight("?name=insight")
	if len(one) != 1 {
		t.Fatalf("/getInsight?name=insight = %+v", one)
	}
	checkInsight(t, "/getInsight?name=insight", one["insight"], 3)
	agg := c.getInsight("?name=insight&aggregate=true")
	checkInsight(t, "aggregate=true", agg["insight"], 3)
	if agg["insight"].UnreachableNodes != nil {
		t.Fatalf("aggregate=true names unreachable nodes %v on a healthy node", agg["insight"].UnreachableNodes)
	}

	// Bad requests change nothing.
	c.expectError(http.StatusNotFound, "ERR_APP_NOT_FOUND_TS", http.MethodGet, c.Eventing+"/getInsight?name=nosuch", nil)
	c.expectError(http.StatusMethodNotAllowed, "ERR_METHOD_NOT_ALLOWED", http.MethodPost, c.Eventing+"/getInsight?name=insight", nil)
	c.expectError(http.StatusBadRequest, "ERR_INVALID_REQUEST", http.MethodGet, c.Eventing+"/getInsight?aggregate=sometimes", nil)
	checkInsight(t, "after bad requests", c.getInsight("?name=insight")["insight"], 3)

	// resetStatsCounters clears the insight with the counters.
	c.resetStats("insight")
	if l := c.getInsight("?name=insight")["insight"].Lines; len(l) != 0 {
		t.Fatalf("after reset: lines = %+v", l)
	}
	c.BulkDocs("src", docs("throw", 10, 11))
	c.waitStat("insight", "execution_stats", "on_update_failure", 1)
	if l := c.getInsight("?name=insight")["insight"].Lines; l["4"].ErrorCount != 1 || l["4"].ErrorMsg != "Error: bad throw00010" || l["2"].LastLog != `"seen" "throw00010" ` {
		t.Fatalf("after reset and one more throw: lines = %+v", l)
	}
}

// TestInsight_ClusterAggregate: on three nodes each node records the
// documents of its own vbuckets; aggregate=true on any node sums them, and
// the per-node answers add up to it.
func TestInsight_ClusterAggregate(t *testing.T) {
	cl := nodetest.NewCluster(t, 3, nodetest.Options{VBuckets: acceptanceVBuckets})
	clients := clusterClients(t, cl, "src", "meta", "dst")
	clients[0].CreateFunction("insight", insightSpec())
	clients[1].Lifecycle("insight", "deploy")
	waitFor(t, 60*time.Second, "insight deployed on 3 nodes", func() bool {
		st := clients[2].Status("insight")
		return st.App.CompositeStatus == "deployed" && st.App.NumDeployedNodes == 3 && st.NumEventingNodes == 3
	})

	const oks, throws = 20, 12
	clients[0].BulkDocs("src", docs("ok", 0, oks))
	clients[1].BulkDocs("src", docs("throw", 0, throws))
	clients[2].waitStat("insight", "execution_stats", "on_update_success", oks)
	clients[2].waitStat("insight", "execution_stats", "on_update_failure", throws)

	for i, c := range clients {
		fi := c.getInsight("?aggregate=true")["insight"]
		checkInsight(t, fmt.Sprintf("node %d aggregate=true", i+1), fi, throws)
		if fi.UnreachableNodes != nil {
			t.Fatalf("node %d: unreachable nodes %v in a healthy cluster", i+1, fi.UnreachableNodes)
		}
	}
	var sum int64
	own := make([]int64, len(clients))
	for i, c := range clients {
		own[i] = c.getInsight("?name=insight")["insight"].Lines["4"].ErrorCount
		sum += own[i]
	}
	if sum != throws {
		t.Fatalf("the nodes' own insight counts %v exceptions, want %d in all", own, throws)
	}
	t.Logf("exceptions recorded per node: %v", own)

	// A node that does not answer is named, and the others' insight is
	// still there.
	cl.Nodes[2].Kill()
	fi := clients[0].getInsight("?name=insight&aggregate=true")["insight"]
	if len(fi.UnreachableNodes) != 1 || fi.UnreachableNodes[0] != "n3" {
		t.Fatalf("with n3 down: unreachable = %v, want [n3]", fi.UnreachableNodes)
	}
	if got := fi.Lines["4"].ErrorCount; got != own[0]+own[1] {
		t.Fatalf("with n3 down: %d exceptions, want %d (n1 and n2)", got, own[0]+own[1])
	}
}
