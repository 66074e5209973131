package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"eventide/internal/restclient"
	"eventide/node"
	"eventide/node/nodetest"
)

// client is the shared REST client of one node; the suite's own helpers
// are its methods.
type client struct{ *restclient.T }

func newClient(t testing.TB, mgmt, eventing, syncgw string) *client {
	return &client{restclient.NewT(t, mgmt, eventing, syncgw)}
}

// acceptanceVBuckets keeps the acceptance tests fast: few vbuckets per
// bucket, still more than any worker_count they use.
const acceptanceVBuckets = 16

// newNode starts an in-process node, creates the buckets and returns a
// client for its public APIs.
func newNode(t *testing.T, buckets ...string) (*nodetest.Node, *client) {
	t.Helper()
	n := nodetest.NewNode(t, nodetest.Options{VBuckets: acceptanceVBuckets})
	c := newClient(t, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))
	for _, b := range buckets {
		c.CreateBucket(b)
	}
	return n, c
}

// clusterClients returns a client per node of an in-process cluster and
// creates the buckets through the first.
func clusterClients(t *testing.T, cl *nodetest.Cluster, buckets ...string) []*client {
	t.Helper()
	clients := make([]*client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		clients[i] = newClient(t, n.URL(node.APIMgmt), n.URL(node.APIEventing), n.URL(node.APISyncGateway))
	}
	for _, b := range buckets {
		clients[0].CreateBucket(b)
	}
	return clients
}

// waitFailedOver waits until the cluster has failed lost over: the bucket
// src's vbucket map, as every other running node's REST API reports it,
// gives each vbucket to a node and none to lost.
func waitFailedOver(t *testing.T, cl *nodetest.Cluster, clients []*client, lost *nodetest.Node, timeout time.Duration) {
	t.Helper()
	var among []*restclient.Client
	for i, n := range cl.Nodes {
		if n != lost && n.Running() {
			among = append(among, clients[i].Client)
		}
	}
	d := restclient.WaitFailedOver(t, timeout, "src", lost.Cfg.BindAddr, among...)
	t.Logf("%s failed over %v after the wait began", lost.Cfg.NodeID, d.Round(10*time.Millisecond))
}

// binding is a bucket binding of a function definition.
type binding struct {
	alias, bucket, access string
}

// fnSpec describes a function definition in Couchbase's (old) format.
type fnSpec struct {
	name     string
	code     string
	source   string // default "src"
	meta     string // default "meta"
	bindings []binding
	settings map[string]any
}

func (s fnSpec) def() map[string]any {
	source, meta := s.source, s.meta
	if source == "" {
		source = "src"
	}
	if meta == "" {
		meta = "meta"
	}
	bs := make([]map[string]any, 0, len(s.bindings))
	for _, b := range s.bindings {
		bs = append(bs, map[string]any{
			"alias": b.alias, "bucket_name": b.bucket, "scope_name": "_default",
			"collection_name": "_default", "access": b.access,
		})
	}
	settings := map[string]any{"dcp_stream_boundary": "everything"}
	maps.Copy(settings, s.settings)
	return map[string]any{
		"appname": s.name,
		"appcode": s.code,
		"depcfg": map[string]any{
			"source_bucket": source, "source_scope": "_default", "source_collection": "_default",
			"metadata_bucket": meta, "metadata_scope": "_default", "metadata_collection": "_default",
			"buckets": bs,
		},
		"settings": settings,
	}
}

// deployNew creates the function, deploys it and waits until it is deployed.
func (c *client) deployNew(s fnSpec) {
	c.TB.Helper()
	c.createAndDeploy(s)
	c.WaitStatus(s.name, "deployed")
}

// createAndDeploy creates the function and asks for its deploy, without
// waiting for the outcome.
func (c *client) createAndDeploy(s fnSpec) {
	c.TB.Helper()
	c.CreateFunction(s.name, s.def())
	c.Lifecycle(s.name, "deploy")
}

// eventingError is the eventing API's error body.
type eventingError struct {
	Name        string `json:"name"`
	Code        int    `json:"code"`
	Description string `json:"description"`
	RuntimeInfo struct {
		Code int             `json:"code"`
		Info json.RawMessage `json:"info"`
	} `json:"runtime_info"`
}

// expectError sends a request to the eventing API and requires an error
// answer with the given HTTP status and Couchbase error name.
func (c *client) expectError(status int, name, method, u string, body []byte) eventingError {
	c.TB.Helper()
	code, b := c.Do(method, u, "application/json", body)
	var e eventingError
	if err := json.Unmarshal(b, &e); err != nil {
		c.TB.Fatalf("%s %s: status %d, body %q is not an eventing error: %v", method, u, code, b, err)
	}
	if code != status || e.Name != name {
		c.TB.Fatalf("%s %s: status %d name %q, want %d %s; body %s", method, u, code, e.Name, status, name, b)
	}
	return e
}

// docMap returns the live documents of ks by id, decoded, without the
// Sync Gateway special properties.
func (c *client) docMap(ks string) map[string]map[string]any {
	c.TB.Helper()
	out := map[string]map[string]any{}
	for _, r := range c.AllDocs(ks) {
		var d map[string]any
		if err := json.Unmarshal(r.Doc, &d); err != nil {
			c.TB.Fatalf("%s doc %s: %v", ks, r.ID, err)
		}
		delete(d, "_id")
		delete(d, "_rev")
		out[r.ID] = d
	}
	return out
}

// getDoc reads one document through Sync Gateway: status and decoded body.
func (c *client) getDoc(ks, id string) (int, map[string]any) {
	c.TB.Helper()
	code, b := c.Do(http.MethodGet, c.SyncGW+"/"+ks+"/"+url.PathEscape(id), "", nil)
	var d map[string]any
	if err := json.Unmarshal(b, &d); err != nil {
		c.TB.Fatalf("GET %s/%s: status %d, body %q: %v", ks, id, code, b, err)
	}
	return code, d
}

// functionStats returns /api/v1/stats/{name}.
func (c *client) functionStats(name string, full bool) map[string]any {
	c.TB.Helper()
	u := c.Eventing + "/api/v1/stats/" + name
	if full {
		u += "?type=full"
	}
	var m map[string]any
	c.GetJSON(u, &m)
	return m
}

// num reads a number at a path of nested JSON objects; it fails the test
// if the path does not lead to a number.
func num(t testing.TB, m map[string]any, path ...string) float64 {
	t.Helper()
	var cur any = m
	for _, p := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("stats path %v: %q is not in an object (%v)", path, p, cur)
		}
		if cur, ok = obj[p]; !ok {
			t.Fatalf("stats path %v: no key %q in %v", path, p, obj)
		}
	}
	f, ok := cur.(float64)
	if !ok {
		t.Fatalf("stats path %v: %v is not a number", path, cur)
	}
	return f
}

// stat reads one counter of /api/v1/stats/{name}: group is
// execution_stats, failure_stats or event_processing_stats.
func (c *client) stat(name, group, key string) float64 {
	c.TB.Helper()
	return num(c.TB, c.functionStats(name, false), group, key)
}

// waitStat waits until a counter reaches want.
func (c *client) waitStat(name, group, key string, want float64) {
	c.TB.Helper()
	var got float64
	waitFor(c.TB, 30*time.Second, fmt.Sprintf("%s %s.%s = %v", name, group, key, want), func() bool {
		got = c.stat(name, group, key)
		return got == want
	})
}

// sumHistogram adds the counts of a latency histogram object.
func sumHistogram(t testing.TB, v any) float64 {
	t.Helper()
	h, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("latency histogram %v is not an object", v)
	}
	var sum float64
	for k, c := range h {
		f, ok := c.(float64)
		if !ok {
			t.Fatalf("latency histogram bucket %s = %v is not a number", k, c)
		}
		sum += f
	}
	return sum
}

// functionList returns the raw body of GET /api/v1/functions.
func (c *client) functionList() []byte {
	c.TB.Helper()
	return c.Must(http.StatusOK, http.MethodGet, c.Eventing+"/api/v1/functions", "", nil)
}

// requireUnchanged fails if GET /api/v1/functions differs from before.
func (c *client) requireUnchanged(before []byte, after string) {
	c.TB.Helper()
	if now := c.functionList(); !bytes.Equal(now, before) {
		c.TB.Fatalf("GET /api/v1/functions changed after %s:\nbefore %s\nafter  %s", after, before, now)
	}
}

// counterCode counts, in dst, how often each source document was handled.
const counterCode = `function OnUpdate(doc, meta) {
  var prev = dst[meta.id];
  dst[meta.id] = {n: doc.n, count: prev ? prev.count + 1 : 1};
}`

// counts returns id → count of a counter function's destination.
func (c *client) counts(ks string) map[string]int {
	c.TB.Helper()
	out := map[string]int{}
	for id, d := range c.docMap(ks) {
		n, ok := d["count"].(float64)
		if !ok {
			c.TB.Fatalf("%s doc %s has no count: %v", ks, id, d)
		}
		out[id] = int(n)
	}
	return out
}

// waitCounts waits until ks holds exactly the ids of want with their counts.
func (c *client) waitCounts(ks string, want map[string]int) {
	c.TB.Helper()
	var got map[string]int
	waitFor(c.TB, 60*time.Second, fmt.Sprintf("%s to hold %d counted docs", ks, len(want)), func() bool {
		got = c.counts(ks)
		return maps.Equal(got, want)
	})
}

// expectCounts builds an id → count map for docs.
func expectCounts(into map[string]int, ds []map[string]any, count int) map[string]int {
	if into == nil {
		into = map[string]int{}
	}
	for _, d := range ds {
		into[d["_id"].(string)] = count
	}
	return into
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// waitFor polls cond every 50ms until it holds, failing the test after
// timeout.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// holdsFor checks that cond stays true for d (used to show that nothing
// happens while a function is paused).
func holdsFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// docs returns the documents numbered from to to-1: id prefix and the
// number in five digits, n the number, kind the prefix in upper case.
func docs(prefix string, from, to int) []map[string]any {
	out := make([]map[string]any, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, map[string]any{"_id": fmt.Sprintf("%s%05d", prefix, i), "n": i, "kind": strings.ToUpper(prefix)})
	}
	return out
}
